// The built-in list of sensitive paths behind the summary's `suspicious_activity`: SSH keys
// and configuration, .env files, the shadow and sudoers files, cloud and package-registry
// credentials. Paths are matched as the traced program passed them (relative paths are not
// resolved against its working directory), so `../.ssh/id_rsa` and `/home/u/.ssh/config`
// both match. Reporting rules from policies will extend this; the list here is the default.
#pragma once

#include <string_view>

namespace sandtrace::analyzer {

// The id of the first rule that `path` matches ("ssh_key", "ssh_directory", "dotenv",
// "shadow_file", "sudoers", "cloud_credentials", "credential_file"), or nullptr.
const char* SensitivePathRule(std::string_view path);

}  // namespace sandtrace::analyzer
