#include "analyzer/sensitive_paths.h"

#include <initializer_list>

namespace sandtrace::analyzer {
namespace {

std::string_view Basename(std::string_view path) {
  const size_t slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// True when the components of `tail` ("a/b") appear in `path` as whole components: the path
// is `tail`, ends with "/tail", starts with "tail/" or contains "/tail/".
bool HasComponents(std::string_view path, std::string_view tail) {
  if (path.size() < tail.size()) return false;
  for (size_t at = path.find(tail); at != std::string_view::npos; at = path.find(tail, at + 1)) {
    const size_t end = at + tail.size();
    const bool starts = at == 0 || path[at - 1] == '/';
    const bool ends = end == path.size() || path[end] == '/';
    if (starts && ends) return true;
  }
  return false;
}

bool OneOf(std::string_view value, std::initializer_list<std::string_view> candidates) {
  for (std::string_view candidate : candidates) {
    if (value == candidate) return true;
  }
  return false;
}

}  // namespace

const char* SensitivePathRule(std::string_view path) {
  const std::string_view base = Basename(path);
  if (OneOf(base, {"id_rsa", "id_ed25519", "id_ecdsa", "id_dsa"})) return "ssh_key";
  if (HasComponents(path, ".ssh")) return "ssh_directory";
  if (base == ".env" || base.starts_with(".env.")) return "dotenv";
  if (OneOf(path, {"/etc/shadow", "/etc/gshadow", "/etc/shadow-", "/etc/gshadow-"})) {
    return "shadow_file";
  }
  if (path == "/etc/sudoers" || path.starts_with("/etc/sudoers.d/")) return "sudoers";
  for (std::string_view tail : {".aws/credentials", ".aws/config", ".config/gcloud",
                                ".docker/config.json", ".kube/config"}) {
    if (HasComponents(path, tail)) return "cloud_credentials";
  }
  if (OneOf(base, {".netrc", ".npmrc", ".pypirc", ".git-credentials"})) {
    return "credential_file";
  }
  return nullptr;
}

}  // namespace sandtrace::analyzer
