#include "ha/conn_params.h"

#include <libpq-fe.h>

#include <memory>

namespace cpha {
namespace {

struct ConninfoOptionsDeleter {
  void operator()(PQconninfoOption* options) const { PQconninfoFree(options); }
};

struct LibpqStringDeleter {
  void operator()(char* text) const { PQfreemem(text); }
};

// libpq quotes the offending part of the input in its parse errors; drop
// every quoted span so that no fragment of a password can leak.
std::string WithoutQuotedSpans(std::string_view message) {
  std::string clean;
  bool inside_quotes = false;
  for (char c : message) {
    if (c == '"') {
      if (!inside_quotes) clean += "\"...\"";
      inside_quotes = !inside_quotes;
      continue;
    }
    if (!inside_quotes && c != '\n') clean += c;
  }
  return clean;
}

}  // namespace

StatusOr<ConnParams> ConnParams::Parse(std::string_view text) {
  std::string input(text);
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
