// A shim named libssl.so (its file name and SONAME) for Debian 12's
// libcivetweb 1.15, which loads "libssl.so" with dlopen and looks up
// SSL_get_peer_certificate: OpenSSL 3 has only SSL_get1_peer_certificate
// (the old name is a macro), so CivetWeb calls a null pointer on the first
// HTTPS connection. The sidecar links this library; CivetWeb's dlopen then
// finds it already loaded under the name "libssl.so", and every other
// symbol resolves through its dependency, the real libssl.so.3.
//
// Workaround for civetweb/civetweb issue 1334: drop the shim once the
// packaged CivetWeb looks up SSL_get1_peer_certificate.
//
// Thread-safety: stateless.

#include <openssl/ssl.h>

#undef SSL_get_peer_certificate

extern "C" {

// OpenSSL 1.1's SSL_get_peer_certificate: the peer's certificate with its
// reference count raised, as SSL_get1_peer_certificate returns it.
__attribute__((visibility("default"))) X509* SSL_get_peer_certificate(
    const SSL* ssl) {
  return SSL_get1_peer_certificate(ssl);
}

// Referenced by the sidecar so that the linker keeps this library.
__attribute__((visibility("default"))) int cpha_libssl_compat_loaded() {
  return 1;
}

}  // extern "C"
