import CJansson

/// A client's settings, read from the config JSON of `opstatus_client_new`.
struct Configuration: Sendable {
  var endpoint: APIEndpoint
  /// Sent as `Authorization: APIToken <token>`. Never logged or shown.
  var apiToken: String
  var caFile: String?
  var connectTimeoutMilliseconds: Int64 = 10_000
  var timeoutMilliseconds: Int64 = 30_000
  var maxResponseBytes: Int64 = 8 * 1024 * 1024
  var classifier = StatusClassifier()

  static let knownKeys = [
    "api_url", "api_token", "ca_file", "connect_timeout_ms", "timeout_ms",
    "max_response_bytes", "success_statuses", "failure_statuses",
  ]

  /// Longest timeout accepted: one day, in milliseconds.
  static let maxTimeoutMilliseconds: Int64 = 86_400_000
  /// Largest response body accepted: 1 GiB.
  static let maxResponseBytesLimit: Int64 = 1 << 30

  /// Reads settings from config JSON text. NULL or an empty string means an
  /// empty object, which then fails for the missing required settings.
  init(jsonText: UnsafePointer<CChar>?) throws(OpStatusError) {
    guard let jsonText, jsonText.pointee != 0 else {
      try self.init(json: nil)
      return
    }
    switch JSONDocument.parse(jsonText) {
    case .success(let document):
      try self.init(json: document.root)
    case .failure(let error):
      throw .invalidArgument("config_json is not valid JSON: \(error)")
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
      let url = try reader?.string("api_url")
      let token = try reader?.string("api_token")
      guard let url else {
        throw OpStatusError.configuration(
          "api_url is missing; set it to the tenant's API URL, "
            + "such as https://acme.console.ves.volterra.io/api")
      }
      guard let token, !token.isEmpty else {
        throw OpStatusError.configuration(
          "api_token is missing or empty; create an API token in the F5 XC console")
      }
      try Configuration.validateToken(token)
      endpoint = try APIEndpoint(url)
      apiToken = token

      caFile = try reader?.string("ca_file")
      if let caFile, caFile.isEmpty {
        throw OpStatusError.configuration("ca_file is empty; give a path or leave it out")
      }
      if let value = try reader?.nonNegativeInt64("connect_timeout_ms") {
        connectTimeoutMilliseconds = try Configuration.checkRange(
          value, "connect_timeout_ms", 1...Configuration.maxTimeoutMilliseconds)
      }
      if let value = try reader?.nonNegativeInt64("timeout_ms") {
        timeoutMilliseconds = try Configuration.checkRange(
          value, "timeout_ms", 1...Configuration.maxTimeoutMilliseconds)
      }
      if let value = try reader?.nonNegativeInt64("max_response_bytes") {
        maxResponseBytes = try Configuration.checkRange(
          value, "max_response_bytes", 1...Configuration.maxResponseBytesLimit)
      }
      let success = try Configuration.readWords(reader, "success_statuses")
      let failure = try Configuration.readWords(reader, "failure_statuses")
      classifier = StatusClassifier(
        successWords: success ?? StatusClassifier.defaultSuccessWords,
        failureWords: failure ?? StatusClassifier.defaultFailureWords)
    } catch let error as JSONDecodingError {
      throw .configuration("\(error.pathText): \(error.problem)")
    } catch let error as OpStatusError {
      throw error
    } catch {
      throw OpStatusError(.internalError, "unexpected configuration error")
    }
  }

  /// Rejects tokens that would break the header line they travel in. The
  /// message never shows the token itself.
  static func validateToken(_ token: String) throws(OpStatusError) {
    for scalar in token.unicodeScalars
    where isControlCharacter(scalar) || scalar == " " || scalar.value > 0x7E {
      throw .configuration(
        "api_token contains a space, a control character or a non-ASCII character; "
          + "copy the token again without extra characters")
    }
  }

  static func checkRange(_ value: Int64, _ key: String, _ range: ClosedRange<Int64>)
    throws(OpStatusError) -> Int64
  {
    guard range.contains(value) else {
      throw .configuration(
        "\(key) is \(value); use a value from \(range.lowerBound) to \(range.upperBound)")
    }
    return value
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
      throw JSONDecodingError("expected at least one status word, found an empty array",
        at: [.key("\(key)")])
    }
    return words
  }
}
