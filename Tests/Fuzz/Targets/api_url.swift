// Fuzz target: normalisation of the api_url setting (APIEndpoint) and the
// encoding of names into path segments.
//
// An accepted URL must give an origin that is accepted again unchanged,
// also with "/api" appended. Plain HTTP must be for loopback hosts only,
// and the origin must carry no user information. Every input, as a name, must percent-encode to
// unreserved characters and %XX escapes that decode to the same bytes.

import Glibc

@testable import OpStatus

@c(LLVMFuzzerTestOneInput)
public func fuzzAPIURL(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  let bytes = UnsafeBufferPointer(start: data, count: size)
  let text = String(decoding: bytes, as: UTF8.self)
  _ = redactingUserInformation(text)
  checkPathSegment(text)

  let endpoint: APIEndpoint
  do throws(OpStatusError) {
    endpoint = try APIEndpoint(text)
  } catch {
    fuzzCheck(error.code == .configuration, "APIEndpoint threw \(error.code.cName)")
    return 0
  }
  checkEndpoint(endpoint)
  return 0
}

private func checkEndpoint(_ endpoint: APIEndpoint) {
  let origin = endpoint.origin
  fuzzCheck(origin.hasPrefix("https://") || origin.hasPrefix("http://"), "origin \(origin)")
  fuzzCheck(endpoint.usesTLS || endpoint.isLoopback, "plain HTTP to \(origin)")
  fuzzCheck(!origin.contains("@"), "user information in \(origin)")
  fuzzCheck(!endpoint.host.isEmpty, "empty host in \(origin)")
  fuzzCheck(endpoint.host == asciiLowercased(endpoint.host), "host not lower case in \(origin)")

  for form in [origin, origin + "/api", origin + "/api/", origin + "/"] {
    do throws(OpStatusError) {
      let again = try APIEndpoint(form)
      fuzzCheck(again == endpoint, "\(form) normalises to \(again.origin), not \(origin)")
    } catch {
      fuzzFailure("the normalised form \(form) is rejected: \(error.message)")
    }
  }
}

private func checkPathSegment(_ text: String) {
  let encoded = percentEncodePathSegment(text)
  var decoded: [UInt8] = []
  var iterator = Array(encoded.utf8).makeIterator()
  while let byte = iterator.next() {
    if byte == UInt8(ascii: "%") {
      guard let high = iterator.next(), let low = iterator.next(),
        let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16)
      else {
        fuzzFailure("a broken escape in \(encoded)")
      }
      decoded.append(value)
    } else {
      let unreserved =
        (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
        || (byte >= 0x30 && byte <= 0x39) || byte == UInt8(ascii: "-")
        || byte == UInt8(ascii: "_") || byte == UInt8(ascii: "~") || byte == UInt8(ascii: ".")
      fuzzCheck(unreserved, "a reserved character in \(encoded)")
      decoded.append(byte)
    }
  }
  fuzzCheck(decoded == Array(text.utf8), "\(encoded) does not decode to the name")
  fuzzCheck(encoded != "." && encoded != "..", "a dot segment \(encoded)")
}
