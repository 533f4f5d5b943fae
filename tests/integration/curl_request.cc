#include "tests/integration/curl_request.h"

#include <cstdlib>
#include <vector>

#include "tests/integration/command.h"

namespace cpha::integration {

JsonAnswer CurlJson(int port, const std::string& method,
                    const std::string& path, const std::string& body,
                    const std::string& authorization) {
  // curl prints the body, then the status code on a line of its own.
  std::vector<std::string> argv = {"curl",          "-s", "-X",
                                   method,          "-w", "\n%{http_code}",
                                   "--data-binary", "@-"};
  if (!authorization.empty()) {
    argv.insert(argv.end(), {"-H", "Authorization: " + authorization});
  }
  argv.push_back("http://127.0.0.1:" + std::to_string(port) + path);
  CommandResult result = RunCommand(argv, {.stdin_text = body});

  JsonAnswer answer;
  size_t newline = result.out.rfind('\n');
  if (newline == std::string::npos) return answer;
  answer.status = std::atoi(result.out.substr(newline + 1).c_str());
  answer.body =
      nlohmann::json::parse(result.out.substr(0, newline), nullptr, false);
  return answer;
}

}  // namespace cpha::integration
