import Glibc

/// Looks settings up in the config JSON first, then in the environment.
///
/// Each setting resolves on its own, in this order: the config JSON key,
/// the `F5XC_*` variable, then the variable of F5's own tools (`VOLT_*` or
/// `VES_*`). An empty variable counts as unset. With `use_environment` set
/// to false in the config JSON, only the config JSON is read.
struct SettingSources {
  let reader: JSONObjectReader?
  let useEnvironment: Bool

  /// The environment variables of each setting, in order of precedence.
  static let environmentNames: [String: [String]] = [
    "api_url": ["F5XC_API_URL", "VOLT_API_URL"],
    "api_token": ["F5XC_API_TOKEN"],
    "p12_file": ["F5XC_P12_FILE", "VOLT_API_P12_FILE"],
    "p12_password": ["F5XC_P12_PASSWORD", "VES_P12_PASSWORD"],
    "cert_file": ["F5XC_CERT", "VOLT_API_CERT"],
    "key_file": ["F5XC_KEY", "VOLT_API_KEY"],
    "ca_file": ["F5XC_CACERT", "VOLT_API_CA_CERT"],
    "timeout_ms": ["VOLT_API_TIMEOUT"],
  ]

  /// Returns a string setting and where it came from, such as `F5XC_API_TOKEN`.
  /// For a `secret` setting, an error names the type found, never the
  /// value.
  func string(_ key: StaticString, secret: Bool = false) throws(JSONDecodingError)
    -> (value: String, source: String)?
  {
    if secret, let value = reader?.value(key), !value.isString {
      throw JSONDecodingError(
        "expected a string, found \(value.typeDescription)", at: [.key("\(key)")])
    }
    if let value = try reader?.string(key) {
      return (value, "\(key)")
    }
    guard useEnvironment else { return nil }
    for name in SettingSources.environmentNames["\(key)"] ?? [] {
      if let raw = getenv(name), raw.pointee != 0 {
        guard let value = String(validatingCString: raw) else {
          throw JSONDecodingError("the environment variable \(name) is not valid UTF-8")
        }
        return (value, name)
      }
    }
    return nil
  }

  /// Returns an environment variable's value, for settings that need their
  /// own parsing.
  func environment(_ name: String) -> String? {
    guard useEnvironment, let raw = getenv(name), raw.pointee != 0 else { return nil }
    return String(validatingCString: raw)
  }
}

/// Reads a duration such as `20s`, `1500ms`, `2m` or a plain number of
/// seconds, the forms F5's tools use for `VOLT_API_TIMEOUT`, into
/// milliseconds.
func parseDuration(_ text: String) -> Int64? {
  var digits = Substring(text)
  var unit: Int64 = 1000
  if digits.hasSuffix("ms") {
    digits = digits.dropLast(2)
    unit = 1
  } else if digits.hasSuffix("s") {
    digits = digits.dropLast()
  } else if digits.hasSuffix("m") {
    digits = digits.dropLast()
    unit = 60_000
  } else if digits.hasSuffix("h") {
    digits = digits.dropLast()
    unit = 3_600_000
  }
  guard let number = parseDecimalUInt64(String(digits)), number <= UInt64(Int64.max / unit)
  else { return nil }
  return Int64(number) * unit
}
