import Glibc

/// Longest `name` or `namespace` accepted, in bytes of UTF-8.
let maxIdentifierBytes = 1024

/// Checks a `name` or `namespace` before anything is sent: present,
/// non-empty, at most 1024 bytes and free of control characters.
///
/// F5 XC's own examples use short values such as `ns1` and `cdn-1`, so no
/// minimum length beyond one byte is enforced. Swift strings are always
/// valid UTF-8, so the UTF-8 check happens where bytes become a `String`.
func validateIdentifier(_ value: String, field: String) throws(OpStatusError) {
  if value.isEmpty {
    throw .invalidArgument("\(field) is empty; give the F5 XC \(field) to query")
  }
  let length = value.utf8.count
  if length > maxIdentifierBytes {
    throw .invalidArgument(
      "\(field) is \(length) bytes long; the limit is \(maxIdentifierBytes) bytes")
  }
  for scalar in value.unicodeScalars where isControlCharacter(scalar) {
    let code = "U+" + String(scalar.value, radix: 16, uppercase: true)
    throw .invalidArgument(
      "\(field) \(quoteForMessage(value)) contains the control character \(code)")
  }
}

/// C0 and C1 control characters and DEL.
func isControlCharacter(_ scalar: Unicode.Scalar) -> Bool {
  scalar.value < 0x20 || (scalar.value >= 0x7F && scalar.value <= 0x9F)
}

/// Converts a NUL-terminated C string that a caller passed into a Swift
/// string, rejecting NULL and bytes that are not UTF-8.
func stringFromCaller(_ pointer: UnsafePointer<CChar>?, field: String) throws(OpStatusError)
  -> String
{
  guard let pointer else {
    throw .invalidArgument("\(field) is NULL; pass a NUL-terminated UTF-8 string")
  }
  // ASCII, the usual case, needs no further check.
  let length = strlen(pointer)
  let isASCII = pointer.withMemoryRebound(to: UInt8.self, capacity: length) { bytes in
    UnsafeBufferPointer(start: bytes, count: length).allSatisfy { $0 < 0x80 }
  }
  if isASCII {
    return pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
      String(decoding: UnsafeBufferPointer(start: $0, count: length), as: UTF8.self)
    }
  }
  guard let string = String(validatingCString: pointer) else {
    throw .invalidArgument("\(field) is not valid UTF-8")
  }
  return string
}
