import CJansson

/// Credentials the client authenticates with.
enum Credentials: Sendable {
  /// Sent as `Authorization: APIToken <token>`.
  case token(String)
  /// A PKCS#12 bundle with its password, for mutual TLS.
  case p12(file: String, password: String)
  /// A PEM certificate and key, for mutual TLS. The key may be encrypted.
  case pem(certificateFile: String, keyFile: String, keyPassword: String?)
}

/// A client's settings, read from the config JSON of `opstatus_client_new`
/// and from the environment (see `SettingSources`).
///
/// No description of a configuration contains the token, a password or a
/// key: messages name the setting, never its secret value.
struct Configuration: Sendable {
  var endpoint: APIEndpoint
  var credentials: Credentials
  var caFile: String?
  var connectTimeoutMilliseconds: Int64 = 10_000
  var timeoutMilliseconds: Int64 = 30_000
  var maxResponseBytes: Int64 = 8 * 1024 * 1024
  var retry = RetryPolicy()
  /// Requests per second allowed by the client-side rate limit; nil when
  /// the limit is off.
  var ratePerSecond: Double?
  var burst: Int64 = 1
  var classifier = StatusClassifier()
  var resourceKind = ResourceKind.httpLoadBalancer
  /// Connections open at once for calls on many operations.
  var maxConnections = 8

  static let knownKeys = [
    "api_url", "api_token", "p12_file", "p12_password", "cert_file", "key_file",
    "key_password", "auth", "ca_file", "connect_timeout_ms", "timeout_ms", "max_attempts",
    "retry_base_ms", "retry_max_ms", "retry_after_max_ms", "deadline_ms", "rate_per_second",
    "burst", "max_response_bytes", "success_statuses", "failure_statuses", "resource_kind",
    "use_environment", "max_connections",
  ]

  /// Maximum timeout, delay or deadline accepted: one day, in milliseconds.
  static let maxMilliseconds: Int64 = 86_400_000
  /// Largest response body accepted: 1 GiB.
  static let maxResponseBytesLimit: Int64 = 1 << 30

  /// Reads settings from config JSON text. NULL or an empty string means an
  /// empty object, so every setting comes from the environment.
  init(jsonText: UnsafePointer<CChar>?) throws(OpStatusError) {
    guard let jsonText, jsonText.pointee != 0 else {
      try self.init(json: nil)
      return
    }
    switch JSONDocument.parse(jsonText) {
    case .success(let document):
      try self.init(json: document.root)
    case .failure(let error):
      // The text may hold the token or a password, so none of it is quoted.
      throw .invalidArgument("config_json is not valid JSON: \(error.descriptionWithoutExcerpt)")
    }
  }

  init(json: JSONPointer?) throws(OpStatusError) {
    var reader: JSONObjectReader?
    if let json {
      do {
        let objectReader = try JSONObjectReader(json)
        try objectReader.rejectUnknownKeys(Configuration.knownKeys)
        reader = objectReader
      } catch {
        if error.path.isEmpty {
          throw .invalidArgument("config_json: \(error.problem)")
        }
        throw .configuration("config_json \(error.pathText): \(error.problem)")
      }
    }

    do {
      let sources = SettingSources(
        reader: reader, useEnvironment: try reader?.bool("use_environment") ?? true)
      try self.init(sources: sources)
    } catch let error as JSONDecodingError {
      throw .configuration("\(error.pathText): \(error.problem)")
    } catch let error as OpStatusError {
      throw error
    } catch {
      throw OpStatusError(.internalError, "unexpected configuration error: \(error)")
    }
  }

  private init(sources: SettingSources) throws {
    guard let url = try sources.string("api_url") else {
      throw OpStatusError.configuration(
        "api_url is missing; set it in the config JSON or in F5XC_API_URL, as a tenant name "
          + "such as acme or a URL such as https://acme.console.ves.volterra.io/api")
    }
    endpoint = try APIEndpoint(url.value, setting: url.source)
    credentials = try Configuration.readCredentials(sources)

    if let ca = try sources.string("ca_file") {
      guard !ca.value.isEmpty else {
        throw OpStatusError.configuration("\(ca.source) is empty; give a path or leave it out")
      }
      caFile = ca.value
    }

    let reader = sources.reader
    if let value = try reader?.nonNegativeInt64("connect_timeout_ms") {
      connectTimeoutMilliseconds = try checkRange(value, "connect_timeout_ms", 1...Self.maxMilliseconds)
    }
    if let value = try reader?.nonNegativeInt64("timeout_ms") {
      timeoutMilliseconds = try checkRange(value, "timeout_ms", 1...Self.maxMilliseconds)
    } else if let text = sources.environment("VOLT_API_TIMEOUT") {
      guard let value = parseDuration(text) else {
        throw OpStatusError.configuration(
          "VOLT_API_TIMEOUT is \(quoteForMessage(text)); write a duration such as 20s or 1500ms")
      }
      timeoutMilliseconds = try checkRange(value, "VOLT_API_TIMEOUT", 1...Self.maxMilliseconds)
    }
    if let value = try reader?.nonNegativeInt64("max_response_bytes") {
      maxResponseBytes = try checkRange(value, "max_response_bytes", 1...Self.maxResponseBytesLimit)
    }

    retry = try RetryPolicy(reader: reader)
    try readRateLimit(reader)

    let success = try Configuration.readWords(reader, "success_statuses")
    let failure = try Configuration.readWords(reader, "failure_statuses")
    classifier = StatusClassifier(
      successWords: success ?? StatusClassifier.defaultSuccessWords,
      failureWords: failure ?? StatusClassifier.defaultFailureWords)

    if let value = try reader?.nonNegativeInt64("max_connections") {
      maxConnections = Int(try checkRange(value, "max_connections", 1...256))
    }
    if let kind = try reader?.string("resource_kind") {
      guard let parsed = ResourceKind(rawValue: kind) else {
        throw OpStatusError.configuration(
          "resource_kind is \(quoteForMessage(kind)); use http_loadbalancer or cdn_loadbalancer")
      }
      resourceKind = parsed
    }
  }

  private mutating func readRateLimit(_ reader: JSONObjectReader?) throws {
    if let rate = try reader?.double("rate_per_second") {
      guard rate > 0, rate <= 100_000 else {
        throw OpStatusError.configuration(
          "rate_per_second is \(rate); use a number above 0 and at most 100000, "
            + "or leave it out to send without a limit")
      }
      ratePerSecond = rate
      burst = max(1, Int64(rate.rounded(.up)))
    }
    if let value = try reader?.nonNegativeInt64("burst") {
      guard ratePerSecond != nil else {
        throw OpStatusError.configuration("burst is set but rate_per_second is not; set both")
      }
      burst = try checkRange(value, "burst", 1...1_000_000)
    }
  }

  /// Picks the credentials and rejects combinations that leave the choice
  /// open: a token and a certificate both set need `auth` to say which wins.
  private static func readCredentials(_ sources: SettingSources) throws -> Credentials {
    let token = try sources.string("api_token", secret: true)
    let p12File = try sources.string("p12_file")
    let p12Password = try sources.string("p12_password", secret: true)
    let certFile = try sources.string("cert_file")
    let keyFile = try sources.string("key_file")
    let keyPassword = try sources.string("key_password", secret: true)?.value
    let auth = try sources.reader?.string("auth")

    if let auth, auth != "token", auth != "certificate" {
      throw OpStatusError.configuration(
        "auth is \(quoteForMessage(auth)); use \"token\" or \"certificate\"")
    }
    for setting in [token, p12File, certFile, keyFile].compactMap({ $0 }) where setting.value.isEmpty {
      throw OpStatusError.configuration("\(setting.source) is empty; give a value or leave it out")
    }

    let hasCertificate = p12File != nil || certFile != nil || keyFile != nil
    if let token, hasCertificate, auth == nil {
      let certificateSource = (p12File ?? certFile ?? keyFile)!.source
      throw OpStatusError.configuration(
        "both an API token (\(token.source)) and a certificate (\(certificateSource)) are set; "
          + "set auth to \"token\" or \"certificate\" to choose one")
    }

    if let token, auth != "certificate" {
      try validateToken(token.value, source: token.source)
      return .token(token.value)
    }
    if auth == "token" {
      throw OpStatusError.configuration(
        "auth is \"token\" but no API token is set; set api_token or F5XC_API_TOKEN")
    }

    if let p12File {
      if let certFile = certFile ?? keyFile {
        throw OpStatusError.configuration(
          "both a PKCS#12 bundle (\(p12File.source)) and a PEM certificate (\(certFile.source)) "
            + "are set; keep one of them")
      }
      guard let p12Password else {
        throw OpStatusError.configuration(
          "\(p12File.source) is set but its password is not; set p12_password, "
            + "F5XC_P12_PASSWORD or VES_P12_PASSWORD")
      }
      try checkReadableFile(p12File.value, setting: p12File.source)
      return .p12(file: p12File.value, password: p12Password.value)
    }

    if let certFile {
      guard let keyFile else {
        throw OpStatusError.configuration(
          "\(certFile.source) is set but the key is not; set key_file or F5XC_KEY")
      }
      try checkReadableFile(certFile.value, setting: certFile.source)
      try checkReadableFile(keyFile.value, setting: keyFile.source)
      return .pem(certificateFile: certFile.value, keyFile: keyFile.value, keyPassword: keyPassword)
    }
    if let keyFile {
      throw OpStatusError.configuration(
        "\(keyFile.source) is set but the certificate is not; set cert_file or F5XC_CERT")
    }

    throw OpStatusError.configuration(
      "no credentials are set; set api_token (or F5XC_API_TOKEN), or a PKCS#12 bundle with "
        + "p12_file and p12_password, or cert_file and key_file")
  }

  /// Rejects tokens that would break the header line they travel in. The
  /// message never shows the token itself.
  static func validateToken(_ token: String, source: String) throws(OpStatusError) {
    for scalar in token.unicodeScalars
    where isControlCharacter(scalar) || scalar == " " || scalar.value > 0x7E {
      throw .configuration(
        "\(source) contains a space, a control character or a non-ASCII character; "
          + "copy the token again without extra characters")
    }
  }

  static func readWords(_ reader: JSONObjectReader?, _ key: StaticString) throws -> [String]? {
    guard let array = try reader?.array(key) else { return nil }
    var words: [String] = []
    for (index, element) in array {
      guard element.isString, !element.stringValue.isEmpty else {
        throw JSONDecodingError(
          "expected a non-empty string, found \(element.shortDescription)",
          at: [.key("\(key)"), .index(index)])
      }
      words.append(element.stringValue)
    }
    if words.isEmpty {
      throw JSONDecodingError(
        "expected at least one status word, found an empty array", at: [.key("\(key)")])
    }
    return words
  }
}

/// Checks that a setting lies in its range.
func checkRange(_ value: Int64, _ key: String, _ range: ClosedRange<Int64>) throws(OpStatusError)
  -> Int64
{
  guard range.contains(value) else {
    throw .configuration(
      "\(key) is \(value); use a value from \(range.lowerBound) to \(range.upperBound)")
  }
  return value
}
