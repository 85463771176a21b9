// Helpers shared by the fuzz targets. Tests/Fuzz/run compiles this file
// into every target binary, next to the target's own file.

import CJansson
import Glibc

@testable import OpStatus

/// Stops the process with a message, which libFuzzer records as a crash
/// with the input that caused it. Used for broken invariants, which are
/// bugs just as a memory error is.
func fuzzFailure(_ message: String, file: StaticString = #file, line: UInt = #line) -> Never {
  fputs("fuzz invariant broken at \(file):\(line): \(message)\n", stderr)
  abort()
}

/// Checks an invariant of the code under test.
func fuzzCheck(
  _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
  file: StaticString = #file, line: UInt = #line
) {
  if !condition() {
    fuzzFailure(message(), file: file, line: line)
  }
}

/// Parses the fuzz input as a response body is parsed, and passes the
/// document's root to body when it is valid JSON.
func withParsedInput(_ data: UnsafePointer<UInt8>?, _ size: Int, _ body: (JSONPointer) -> Void) {
  let bytes = UnsafeRawBufferPointer(start: data, count: size)
  guard case .success(let document) = JSONDocument.parse(bytes) else { return }
  withExtendedLifetime(document) {
    body(document.root)
  }
}

/// Serialises a value the library built, parses the text again and passes
/// the new root to body, the way a caller reads the library's result.
func withReparsedValue(_ value: JSONPointer, _ body: (JSONPointer) -> Void) {
  guard let text = dumpJSON(value) else {
    fuzzFailure("json_dumps failed for a value the library built")
  }
  defer { free(text) }
  switch JSONDocument.parse(text) {
  case .success(let document):
    withExtendedLifetime(document) { body(document.root) }
  case .failure(let error):
    fuzzFailure("the library built JSON that does not parse again: \(error)")
  }
}

/// Result codes that reading caller input may produce.
let callerInputCodes: Set<ResultCode> = [.invalidArgument, .configuration]
