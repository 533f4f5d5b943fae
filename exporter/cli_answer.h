// RenderCliAnswer: what the operator CLI prints for one answer of a node,
// apart from the request itself, so that any body a node (or something
// posing as one) sends is handled by one pure function.
//
// Thread-safety: a free function over values.

#ifndef CPHA_EXPORTER_CLI_ANSWER_H_
#define CPHA_EXPORTER_CLI_ANSWER_H_

#include <string>
#include <string_view>

namespace cpha {

// The answers the CLI knows how to print, one per verb.
enum class CliView {
  kStatus,         // GET /v1/ha/status
  kQuorum,         // GET /v1/ha/quorum
  kFailover,       // POST /v1/ha/failover
  kBackupCreate,   // POST /v1/ha/backups
  kBackupList,     // GET /v1/ha/backups
  kBackupRestore,  // POST /v1/ha/backups/restore
};

struct CliOutput {
  bool refused = false;  // the node answered with a status other than 2xx
  std::string out;       // for standard output (empty when refused)
  std::string error;     // one line for standard error (only when refused)
};

// Renders the answer (`http_status`, `body`) of the node at `url` for
// `view`. A 2xx answer becomes the view's text, or the JSON indented when
// `json_output`; a body that is not JSON is shown as it came. Any other
// status is a refusal whose line quotes the body's "error" field, or the
// body. Never throws: a field that is missing or of another type shows as
// empty, 0 or false. Control characters from the node are shown as '?', so
// that an answer can not drive the operator's terminal.
CliOutput RenderCliAnswer(CliView view, bool json_output,
                          const std::string& url, int http_status,
                          std::string_view body);

}  // namespace cpha

#endif  // CPHA_EXPORTER_CLI_ANSWER_H_
