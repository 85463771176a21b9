// Fuzz target: the config JSON reader of opstatus_client_new.
//
// The input goes to Configuration(jsonText:) as given, and, when it is a
// JSON object, once more with "use_environment": false forced, so that
// only the config JSON is read. The F5XC_*, VOLT_* and VES_* variables are
// removed at start, so the environment never fills in a setting either.
// Reading may fail only with OPSTATUS_EINVAL or OPSTATUS_ECONFIG.
//
// NOTE: a config naming an existing file as ca_file, p12_file, cert_file or
// key_file makes the reader open and close that file. Run the fuzzer only
// where opening any readable file is harmless.

import CJansson
import Glibc

@testable import OpStatus

private let environmentCleared: Bool = {
  for names in SettingSources.environmentNames.values {
    for name in names {
      unsetenv(name)
    }
  }
  return true
}()

@c(LLVMFuzzerTestOneInput)
public func fuzzConfig(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  precondition(environmentCleared)
  var text = [CChar](repeating: 0, count: size + 1)
  if let data, size > 0 {
    text.withUnsafeMutableBytes { $0.baseAddress!.copyMemory(from: data, byteCount: size) }
  }
  readConfiguration(text)

  withParsedInput(data, size) { root in
    guard root.isObject, let copy = json_deep_copy(root) else { return }
    defer { json_decref(copy) }
    json_object_set_new(copy, "use_environment", json_false())
    guard let forced = dumpJSON(copy) else { return }
    defer { free(forced) }
    let length = strlen(forced)
    let bytes = UnsafeBufferPointer(start: forced, count: length + 1)
    readConfiguration(Array(bytes))
  }
  return 0
}

private func readConfiguration(_ text: [CChar]) {
  text.withUnsafeBufferPointer { buffer in
    do throws(OpStatusError) {
      let configuration = try Configuration(jsonText: buffer.baseAddress)
      checkConfiguration(configuration)
    } catch {
      fuzzCheck(
        callerInputCodes.contains(error.code),
        "reading a config gave \(error.code.cName): \(error.message)")
      fuzzCheck(!error.message.isEmpty, "an error without a message")
    }
  }
}

private func checkConfiguration(_ configuration: Configuration) {
  let origin = configuration.endpoint.origin
  fuzzCheck(origin.hasPrefix("https://") || origin.hasPrefix("http://"), "origin \(origin)")
  fuzzCheck(
    configuration.endpoint.usesTLS || configuration.endpoint.isLoopback,
    "plain HTTP to a host that is not loopback: \(origin)")
  fuzzCheck(configuration.retry.maxAttempts >= 1, "max_attempts below 1")
  fuzzCheck(
    configuration.retry.maxDelayMilliseconds >= configuration.retry.baseDelayMilliseconds,
    "retry_max_ms below retry_base_ms")
  fuzzCheck(
    (1...Configuration.maxResponseBytesLimit).contains(configuration.maxResponseBytes),
    "max_response_bytes \(configuration.maxResponseBytes) out of range")
  fuzzCheck((1...256).contains(configuration.maxConnections), "max_connections out of range")
  if case .token(let token) = configuration.credentials {
    fuzzCheck(!token.isEmpty, "an empty token was accepted")
  }
}
