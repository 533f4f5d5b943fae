#include "ha/conn_params.h"

#include <libpq-fe.h>

#include <memory>
#include <optional>

namespace cpha {
namespace {

struct ConninfoOptionsDeleter {
  void operator()(PQconninfoOption* options) const { PQconninfoFree(options); }
};

struct LibpqStringDeleter {
  void operator()(char* text) const { PQfreemem(text); }
};

// libpq quotes the offending part of the input in its parse errors. The
// quoted part may itself hold quotes, so everything from the first quote to
// the last is dropped (after a lone quote, everything), and with it any
// fragment of a password.
std::string WithoutQuotedSpans(std::string_view message) {
  size_t first = message.find('"');
  size_t last = message.rfind('"');
  std::string kept(message.substr(0, first));
  if (first != std::string_view::npos) {
    kept += "\"...\"";
    if (last != first) kept += message.substr(last + 1);
  }
  std::string clean;
  for (char c : kept) {
    if (c != '\n') clean += c;
  }
  return clean;
}

bool IsUri(std::string_view text) {
  return text.rfind("postgresql://", 0) == 0 ||
         text.rfind("postgres://", 0) == 0;
}

// An '@' or '/' left unencoded in a URI's password makes libpq read part of
// the password as a host, port or database name, which then shows up in
// every error. Refuse such a URI instead of guessing.
std::optional<std::string> UnencodedPasswordProblem(std::string_view uri) {
  std::string_view rest = uri.substr(uri.find("://") + 3);
  std::string_view before_query = rest.substr(0, rest.find('?'));
  size_t last_at = before_query.rfind('@');
  if (last_at == std::string_view::npos) return std::nullopt;
  std::string_view userinfo = before_query.substr(0, last_at);
  if (userinfo.find('@') != std::string_view::npos ||
      userinfo.find('/') != std::string_view::npos) {
    return "the user or password part holds an unencoded '@' or '/'; "
           "percent-encode it (%40, %2F)";
  }
  return std::nullopt;
}

// Every port must be a number: a stray password fragment in the port
// position must not reach libpq's error messages.
std::optional<std::string> PortProblem(const std::string& ports) {
  for (char c : ports) {
    if (c != ',' && (c < '0' || c > '9')) {
      return "a port is not a number (is a password character unencoded?)";
    }
  }
  return std::nullopt;
}

}  // namespace

StatusOr<ConnParams> ConnParams::Parse(std::string_view text) {
  std::string input(text);
  if (IsUri(text)) {
    if (std::optional<std::string> problem = UnencodedPasswordProblem(text)) {
      return Status::Error(ErrorKind::kInvalidArgument,
                           "cannot use the database URL: " + *problem);
    }
  }
  char* raw_error = nullptr;
  std::unique_ptr<PQconninfoOption, ConninfoOptionsDeleter> options(
      PQconninfoParse(input.c_str(), &raw_error));
  std::unique_ptr<char, LibpqStringDeleter> error(raw_error);
  if (!options) {
    std::string why = error ? WithoutQuotedSpans(error.get()) : "out of memory";
    return Status::Error(ErrorKind::kInvalidArgument,
                         "cannot parse the database URL: " + why);
  }

  ConnParams params;
  for (PQconninfoOption* option = options.get(); option->keyword; ++option) {
    if (option->val != nullptr && option->val[0] != '\0') {
      params.entries_.emplace_back(option->keyword, option->val);
    }
  }
  if (std::optional<std::string> problem = PortProblem(params.Get("port"))) {
    return Status::Error(ErrorKind::kInvalidArgument,
                         "cannot use the database URL: " + *problem);
  }
  return params;
}

void ConnParams::Set(std::string_view keyword, std::string_view value) {
  for (auto& [key, current] : entries_) {
    if (key == keyword) {
      current = value;
      return;
    }
  }
  entries_.emplace_back(std::string(keyword), std::string(value));
}

std::string ConnParams::Get(std::string_view keyword) const {
  for (const auto& [key, value] : entries_) {
    if (key == keyword) return value;
  }
  return {};
}

std::string ConnParams::Redacted() const {
  std::string text;
  for (const char* keyword : {"host", "hostaddr", "port", "dbname", "user",
                              "target_session_attrs", "sslmode"}) {
    std::string value = Get(keyword);
    if (value.empty()) continue;
    if (!text.empty()) text += ' ';
    text += std::string(keyword) + "=" + value;
  }
  return text;
}

ConnParams::CArrays ConnParams::ToCArrays() const {
  CArrays arrays;
  for (const auto& [key, value] : entries_) {
    arrays.keywords.push_back(key.c_str());
    arrays.values.push_back(value.c_str());
  }
  arrays.keywords.push_back(nullptr);
  arrays.values.push_back(nullptr);
  return arrays;
}

}  // namespace cpha
