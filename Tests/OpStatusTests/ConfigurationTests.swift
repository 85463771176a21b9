import Testing

@testable import OpStatus

/// A made-up token in the form of a real one. It is no credential.
let sampleToken = "Zq7mKp2Wd9Ls4Vn8Rx1Tb6Hc3Yf5Ja0="

/// Config JSON for a valid client with `extra` members added. The
/// environment is turned off, so that variables set on the machine that
/// runs the tests cannot change the result.
func configText(_ extra: String = "") -> String {
  var text = #"{"use_environment": false, "api_url": "https://acme.console.ves.volterra.io/api""#
  text += #", "api_token": "\#(sampleToken)""#
  if !extra.isEmpty { text += ", " + extra }
  return text + "}"
}

/// Loads config JSON that must fail and returns the error.
func configFailure(_ text: String) -> OpStatusError? {
  loadConfiguration(text).failure
}

@Suite struct ConfigurationReading {
  @Test func validConfiguration() throws {
    let configuration = try loadConfiguration(configText()).get()
    #expect(configuration.endpoint.origin == "https://acme.console.ves.volterra.io")
    #expect(configuration.caFile == nil)
    #expect(configuration.connectTimeoutMilliseconds == 10_000)
    #expect(configuration.timeoutMilliseconds == 30_000)
    #expect(configuration.maxResponseBytes == 8 * 1024 * 1024)
  }

  @Test func tokenCredentials() throws {
    let configuration = try loadConfiguration(configText()).get()
    guard case .token(let token) = configuration.credentials else {
      Issue.record("credentials are not a token")
      return
    }
    #expect(token == sampleToken)
  }

  @Test func missingURLRejected() {
    let error = configFailure(#"{"use_environment": false, "api_token": "abc"}"#)
    #expect(error?.code == .configuration)
    #expect(error?.message.hasPrefix("api_url is missing") == true)
  }

  @Test func emptyURLRejected() {
    let error = configFailure(#"{"use_environment": false, "api_url": "", "api_token": "abc"}"#)
    #expect(error?.code == .configuration)
    #expect(error?.message.hasPrefix("api_url is empty") == true)
  }

  @Test func missingTokenRejected() {
    let error = configFailure(#"{"use_environment": false, "api_url": "acme"}"#)
    #expect(error?.code == .configuration)
    #expect(error?.message.hasPrefix("no credentials are set") == true)
  }

  @Test func emptyTokenRejected() {
    let error = configFailure(#"{"use_environment": false, "api_url": "acme", "api_token": ""}"#)
    #expect(error?.code == .configuration)
    #expect(error?.message == "api_token is empty; give a value or leave it out")
  }

  @Test func tokenWithSpaceRejected() {
    let text = #"{"use_environment": false, "api_url": "acme", "api_token": "Zq7mKp2W d9Ls4Vn8"}"#
    let error = configFailure(text)
    #expect(error?.code == .configuration)
    #expect(error?.message.hasPrefix("api_token contains a space") == true)
  }

  @Test func tokenWithSpaceNotShown() throws {
    let text = #"{"use_environment": false, "api_url": "acme", "api_token": "Zq7mKp2W d9Ls4Vn8"}"#
    let message = try #require(configFailure(text)?.message)
    #expect(!message.contains("Zq7mKp2W"))
    #expect(!message.contains("d9Ls4Vn8"))
  }

  @Test(arguments: ["a\\nb", "a\\tb", "caf\\u00e9", "a\\u007fb"])
  func tokenCharactersRejected(escapedToken: String) {
    let text = #"{"use_environment": false, "api_url": "acme", "api_token": "\#(escapedToken)"}"#
    #expect(configFailure(text)?.code == .configuration)
  }

  @Test func tokenOfWrongTypeNotShown() throws {
    // A token or password written as a JSON number must not appear in the
    // message either.
    let text = #"{"use_environment": false, "api_url": "acme", "api_token": 8675309123}"#
    let message = try #require(configFailure(text)?.message)
    #expect(!message.contains("8675309123"))
  }

  @Test func passwordOfWrongTypeNotShown() throws {
    let text = #"{"use_environment": false, "api_url": "acme", "p12_password": 4815162342}"#
    let message = try #require(configFailure(text)?.message)
    #expect(!message.contains("4815162342"))
  }

  @Test func unknownKeyRejected() {
    let error = configFailure(configText(#""conect_timeout_ms": 5"#))
    #expect(error?.code == .configuration)
    #expect(error?.message.hasPrefix("config_json conect_timeout_ms: unknown key") == true)
  }

  @Test func notObjectInvalidArgument() {
    let error = configFailure(#"["api_url"]"#)
    #expect(error?.code == .invalidArgument)
    #expect(error?.message == "config_json: expected an object, found an array")
  }

  @Test func invalidJSONInvalidArgument() {
    let error = configFailure(#"{"api_url": }"#)
    #expect(error?.code == .invalidArgument)
    #expect(error?.message.hasPrefix("config_json is not valid JSON") == true)
  }

  @Test func duplicateKeyInvalidArgument() {
    let error = configFailure(#"{"api_url": "a", "api_url": "b"}"#)
    #expect(error?.code == .invalidArgument)
  }

  @Test func urlOfWrongTypeRejected() {
    let error = configFailure(#"{"use_environment": false, "api_url": 5, "api_token": "a"}"#)
    #expect(error?.code == .configuration)
    #expect(error?.message == "api_url: expected a string, found 5")
  }
}

@Suite struct ConfigurationLimits {
  @Test(arguments: ["connect_timeout_ms", "timeout_ms"])
  func timeoutZeroRejected(key: String) {
    let error = configFailure(configText(#""\#(key)": 0"#))
    #expect(error?.code == .configuration)
    #expect(error?.message == "\(key) is 0; use a value from 1 to 86400000")
  }

  @Test(arguments: ["connect_timeout_ms", "timeout_ms"])
  func timeoutPastDayRejected(key: String) {
    let error = configFailure(configText(#""\#(key)": 86400001"#))
    #expect(error?.code == .configuration)
    #expect(error?.message == "\(key) is 86400001; use a value from 1 to 86400000")
  }

  @Test(arguments: ["connect_timeout_ms", "timeout_ms"])
  func timeoutNegativeRejected(key: String) {
    let error = configFailure(configText(#""\#(key)": -1"#))
    #expect(error?.code == .configuration)
    #expect(error?.message.hasPrefix("\(key): expected a non-negative") == true)
  }

  @Test(arguments: ["connect_timeout_ms", "timeout_ms"])
  func timeoutFractionRejected(key: String) {
    let error = configFailure(configText(#""\#(key)": 1.5"#))
    #expect(error?.code == .configuration)
  }

  @Test func timeoutBoundsAccepted() throws {
    let configuration = try loadConfiguration(
      configText(#""connect_timeout_ms": 1, "timeout_ms": 86400000"#)
    ).get()
    #expect(configuration.connectTimeoutMilliseconds == 1)
    #expect(configuration.timeoutMilliseconds == 86_400_000)
  }

  @Test func timeoutAsString() throws {
    let configuration = try loadConfiguration(configText(#""timeout_ms": "2500""#)).get()
    #expect(configuration.timeoutMilliseconds == 2500)
  }

  @Test func maxResponseBytesRange() {
    #expect(configFailure(configText(#""max_response_bytes": 0"#))?.code == .configuration)
    #expect(
      configFailure(configText(#""max_response_bytes": 1073741825"#))?.code == .configuration)
    #expect(configFailure(configText(#""max_response_bytes": 1073741824"#)) == nil)
  }

  @Test func emptyCAFileRejected() {
    let error = configFailure(configText(#""ca_file": """#))
    #expect(error?.code == .configuration)
    #expect(error?.message == "ca_file is empty; give a path or leave it out")
  }

  @Test func customStatusWords() throws {
    let configuration = try loadConfiguration(
      configText(#""success_statuses": ["Purged"], "failure_statuses": ["Rejected"]"#)
    ).get()
    #expect(configuration.classifier.classify("purged") == .succeeded)
    #expect(configuration.classifier.classify("REJECTED") == .failed)
    #expect(configuration.classifier.classify("success") == .pending)
  }

  @Test func emptyStatusWordsRejected() {
    let error = configFailure(configText(#""success_statuses": []"#))
    #expect(error?.code == .configuration)
    #expect(
      error?.message
        == "success_statuses: expected at least one status word, found an empty array")
  }

  @Test func statusWordOfWrongTypeRejected() {
    let error = configFailure(configText(#""failure_statuses": ["failed", 3]"#))
    #expect(error?.message == "failure_statuses[1]: expected a non-empty string, found 3")
  }
}

/// Client creation, which checks that files named in the settings exist.
/// Creating a client sends nothing.
@Suite struct ClientCreation {
  @Test func missingCAFileRejected() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let path = directory.path + "/missing-ca.pem"
    let configuration = try loadConfiguration(configText(#""ca_file": "\#(path)""#)).get()

    #expect(throws: OpStatusError.self) {
      try Client(configuration: configuration)
    }
  }

  @Test func missingCAFileNamed() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let path = directory.path + "/missing-ca.pem"
    let configuration = try loadConfiguration(configText(#""ca_file": "\#(path)""#)).get()

    do throws(OpStatusError) {
      _ = try Client(configuration: configuration)
      Issue.record("a client was created with a missing ca_file")
    } catch {
      #expect(error.code == .configuration)
      #expect(error.message.hasPrefix("ca_file \"\(path)\" cannot be read") == true)
    }
  }

  @Test func readableCAFileAccepted() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let path = directory.writeFile("ca.pem", "-----BEGIN CERTIFICATE-----\n")
    let configuration = try loadConfiguration(configText(#""ca_file": "\#(path)""#)).get()

    let client = try Client(configuration: configuration)
    #expect(client.configuration.caFile == path)
  }

  @Test func directoryAsCAFileRejected() throws {
    let directory = try TemporaryDirectory()
    defer { directory.remove() }
    let configuration = try loadConfiguration(
      configText(#""ca_file": "\#(directory.path)""#)
    ).get()

    #expect(throws: OpStatusError.self) {
      try Client(configuration: configuration)
    }
  }
}
