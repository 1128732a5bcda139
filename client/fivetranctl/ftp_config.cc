#include "client/fivetranctl/ftp_config.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/util/json_util.h>

#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/fivetranctl/errors.h"
#include "client/fivetranctl/input.h"
#include "wire/enum_names.h"

namespace fivetranctl {

namespace v1 = ::fivetran::gateway::v1;

namespace {

namespace wire = ::fivetran_gateway::wire;
using nlohmann::json;
using Ftp = v1::FtpConfig;

constexpr char kPasswordEnv[] = "FIVETRAN_FTP_PASSWORD";

// Fivetran's enum spellings ("csv", "tar_gz") in an FTP JSON config -> proto enum names, so
// that the file may use either.
template <typename E>
void NormalizeEnum(json* config, const char* key, const google::protobuf::EnumDescriptor* d) {
  if (!config->contains(key) || !(*config)[key].is_string()) return;
  E e{};
  if (wire::ParseFivetranEnum((*config)[key].get<std::string>(), &e)) {
    (*config)[key] = d->FindValueByNumber(e)->name();
  }
}

}  // namespace

void AddFtpFlags(CLI::App* cmd, Appliers<Ftp>* apply) {
  const std::string group = "FTP config";
  auto text = [&](const std::string& names, const std::string& help,
                  std::function<void(Ftp*, const std::string&)> set) {
    return AddField<Ftp, std::string>(cmd, apply, names, help, set)->group(group);
  };
  auto flag = [&](const std::string& names, const std::string& help,
                  std::function<void(Ftp*, const bool&)> set) {
    return AddField<Ftp, bool>(cmd, apply, names, help, set)->group(group);
  };
  auto number = [&](const std::string& names, const std::string& help,
                    std::function<void(Ftp*, const int&)> set) {
    return AddField<Ftp, int>(cmd, apply, names, help, set)->group(group);
  };
  text("--schema", "Destination schema (required)",
       [](Ftp* c, const std::string& v) { c->set_schema(v); });
  text("--table", "Destination table (required unless --table-group-name/--file-mapping-method)",
       [](Ftp* c, const std::string& v) { c->set_table(v); });
  text("--table-group-name", "Table group name",
       [](Ftp* c, const std::string& v) { c->set_table_group_name(v); });
  text("--host", "FTP server host (required)",
       [](Ftp* c, const std::string& v) { c->set_host(v); });
  number("--port", "FTP server port", [](Ftp* c, const int& v) {
    c->set_port(v);
  })->check(CLI::Range(1, 65535));
  text("--user", "FTP user (required)", [](Ftp* c, const std::string& v) { c->set_user(v); });
  flag("--secure,!--no-secure", "The server uses FTPS (is_secure)",
       [](Ftp* c, const bool& v) { c->set_is_secure(v); });
  text("--prefix", "Folder searched recursively for files",
       [](Ftp* c, const std::string& v) { c->set_prefix(v); });
  text("--pattern", "Regular expression of the files to sync", [](Ftp* c, const std::string& v) {
    c->set_pattern(v);
  })->type_name("RE");
  AddEnum<Ftp, v1::FtpFileType>(cmd, apply, "--file-type", "Force a file type",
                                v1::FtpFileType_descriptor(),
                                [](Ftp* c, v1::FtpFileType e) { c->set_file_type(e); })
      ->group(group);
  AddEnum<Ftp, v1::FtpCompression>(cmd, apply, "--compression", "Compression of the files",
                                   v1::FtpCompression_descriptor(),
                                   [](Ftp* c, v1::FtpCompression e) { c->set_compression(e); })
      ->group(group);
  AddEnum<Ftp, v1::FtpOnError>(cmd, apply, "--on-error", "What to do with badly formatted lines",
                               v1::FtpOnError_descriptor(),
                               [](Ftp* c, v1::FtpOnError e) { c->set_on_error(e); })
      ->group(group);
  AddEnum<Ftp, v1::FtpAppendFileOption>(
      cmd, apply, "--append-file-option", "How changed files are written",
      v1::FtpAppendFileOption_descriptor(),
      [](Ftp* c, v1::FtpAppendFileOption e) { c->set_append_file_option(e); })
      ->group(group);
  text("--archive-pattern", "Regular expression of files inside archives",
       [](Ftp* c, const std::string& v) { c->set_archive_pattern(v); })
      ->type_name("RE");
  text("--null-sequence", "Value that means NULL in CSV files",
       [](Ftp* c, const std::string& v) { c->set_null_sequence(v); });
  text("--delimiter", "CSV delimiter", [](Ftp* c, const std::string& v) { c->set_delimiter(v); });
  text("--escape-char", "Escape character for quotes",
       [](Ftp* c, const std::string& v) { c->set_escape_char(v); });
  number("--skip-before", "Lines to skip at the start of each file", [](Ftp* c, const int& v) {
    c->set_skip_before(v);
  })->check(CLI::NonNegativeNumber);
  number("--skip-after", "Lines to skip at the end of each file", [](Ftp* c, const int& v) {
    c->set_skip_after(v);
  })->check(CLI::NonNegativeNumber);
  flag("--empty-header,!--no-empty-header", "Files have no header row",
       [](Ftp* c, const bool& v) { c->set_empty_header(v); });
  text("--line-separator", "Custom line separator",
       [](Ftp* c, const std::string& v) { c->set_line_separator(v); });
  text("--quote-char", "Quote character",
       [](Ftp* c, const std::string& v) { c->set_quote_char(v); });
  flag("--quote-character-enabled,!--no-quote-character", "Whether a quote character is used",
       [](Ftp* c, const bool& v) { c->set_quote_character_enabled(v); });
  AddEnum<Ftp, v1::FtpJsonDeliveryMode>(
      cmd, apply, "--json-delivery-mode", "How JSON is delivered",
      v1::FtpJsonDeliveryMode_descriptor(),
      [](Ftp* c, v1::FtpJsonDeliveryMode e) { c->set_json_delivery_mode(e); })
      ->group(group);
  text("--selected-range", "Spreadsheet cell range, e.g. 'Sheet1'!A1",
       [](Ftp* c, const std::string& v) { c->set_selected_range(v); });
  flag("--use-pgp-encryption,!--no-pgp-encryption", "Files are PGP-encrypted",
       [](Ftp* c, const bool& v) { c->set_use_pgp_encryption_options(v); });
  text("--pgp-secret-key-file", "File holding the PGP secret key (secret)",
       [](Ftp* c, const std::string& path) {
         c->set_pgp_secret_key(ReadSecretFile("--pgp-secret-key-file", path));
       })
      ->type_name("FILE");
  text("--pgp-pass-phrase-file", "File holding the PGP pass phrase (secret)",
       [](Ftp* c, const std::string& path) {
         c->set_pgp_pass_phrase(ReadSecretFile("--pgp-pass-phrase-file", path));
       })
      ->type_name("FILE");
  text("--signer-public-key-file", "File holding the signer's PGP public key",
       [](Ftp* c, const std::string& path) {
         c->set_signer_public_key(ReadSecretFile("--signer-public-key-file", path));
       })
      ->type_name("FILE");
  AddEnum<Ftp, v1::FtpFileMappingMethod>(
      cmd, apply, "--file-mapping-method", "How files map to tables",
      v1::FtpFileMappingMethod_descriptor(),
      [](Ftp* c, v1::FtpFileMappingMethod e) { c->set_file_mapping_method(e); })
      ->group(group);
  AddField<Ftp, std::vector<std::string>>(
      cmd, apply, "--file", "Per-table files TABLE=PATTERN (repeatable; DEFINE_PER_TABLE)",
      [](Ftp* c, const std::vector<std::string>& entries) {
        for (const std::string& entry : entries) {
          v1::FtpFileMapping* f = c->add_files();
          const size_t eq = entry.find('=');
          f->set_table_name(entry.substr(0, eq));
          f->set_file_pattern(entry.substr(eq + 1));
        }
      })
      ->check(CLI::Validator(
          [](std::string& v) -> std::string {
            const size_t eq = v.find('=');
            return eq == std::string::npos || eq == 0 ? "expected TABLE=PATTERN" : "";
          },
          "TABLE=PATTERN"))
      ->group(group);
  text("--extraction-pattern", "Regular expression with a (?<table>...) group (EXTRACT_TABLES)",
       [](Ftp* c, const std::string& v) { c->set_extraction_pattern(v); })
      ->type_name("RE");
}

Ftp FtpConfigFromFile(const std::string& path) {
  json j = ReadJsonObject("--config", path);
  NormalizeEnum<v1::FtpFileType>(&j, "file_type", v1::FtpFileType_descriptor());
  NormalizeEnum<v1::FtpCompression>(&j, "compression", v1::FtpCompression_descriptor());
  NormalizeEnum<v1::FtpOnError>(&j, "on_error", v1::FtpOnError_descriptor());
  NormalizeEnum<v1::FtpAppendFileOption>(&j, "append_file_option",
                                         v1::FtpAppendFileOption_descriptor());
  NormalizeEnum<v1::FtpJsonDeliveryMode>(&j, "json_delivery_mode",
                                         v1::FtpJsonDeliveryMode_descriptor());
  NormalizeEnum<v1::FtpFileMappingMethod>(&j, "file_mapping_method",
                                          v1::FtpFileMappingMethod_descriptor());
  Ftp config;
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = false;
  auto status = google::protobuf::util::JsonStringToMessage(j.dump(), &config, options);
  if (!status.ok()) {
    throw UsageError(absl::StrCat(
        "--config: '", path, "' is not an FTP config: ", OneLine(std::string(status.message()))));
  }
  return config;
}

void CheckFtpRequired(const Ftp& config) {
  std::vector<std::string> missing;
  if (config.schema().empty()) missing.push_back("--schema");
  if (config.host().empty()) missing.push_back("--host");
  if (config.user().empty()) missing.push_back("--user");
  if (config.table().empty() && config.table_group_name().empty() &&
      config.file_mapping_method() == v1::FTP_FILE_MAPPING_METHOD_UNSPECIFIED) {
    missing.push_back("--table (or --table-group-name, or --file-mapping-method)");
  }
  if (!missing.empty()) {
    throw UsageError(absl::StrCat("create-ftp: missing ", absl::StrJoin(missing, ", "),
                                  " (as flags or in --config)"));
  }
}

void SetFtpPassword(const std::string& password_file, Ftp* config) {
  if (!password_file.empty()) {
    config->set_password(ReadSecretFile("--password-file", password_file));
  } else if (config->password().empty()) {
    const char* env = std::getenv(kPasswordEnv);
    if (env != nullptr && *env != '\0') {
      config->set_password(env);
    } else {
      config->set_password(PromptSecret(
          absl::StrCat("FTP password for ", config->user(), "@", config->host(), ": ")));
    }
    if (config->password().empty()) {
      throw UsageError(
          "create-ftp: no FTP password: use --password-file FILE or FIVETRAN_FTP_PASSWORD, "
          "or run on a terminal to be prompted");
    }
  }
}

}  // namespace fivetranctl
