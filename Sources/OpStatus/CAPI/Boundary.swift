import COpStatusABI
import CJansson
import Glibc

/// Runs the body of an exported function: clears the thread's last error,
/// and on failure records the error and returns its code.
@inline(__always)
func runExported(_ body: () throws(OpStatusError) -> Void) -> opstatus_result {
  let record = currentErrorRecord()
  record.clear()
  do {
    try body()
    return OPSTATUS_OK
  } catch {
    record.set(error)
    return opstatus_result(rawValue: UInt32(error.code.rawValue))
  }
}

/// The Swift client behind an `opstatus_client *`.
func clientFromHandle(_ handle: UnsafeMutablePointer<opstatus_client>?) throws(OpStatusError) -> Client {
  guard let handle else {
    throw .invalidArgument("client is NULL; create one with opstatus_client_new()")
  }
  return Unmanaged<Client>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
}

/// Checks an out-parameter and sets it to NULL, so that a failure leaves
/// nothing for the caller to free.
func prepareOut<T>(_ out: UnsafeMutablePointer<T?>?, name: String = "out")
  throws(OpStatusError) -> UnsafeMutablePointer<T?>
{
  guard let out else {
    throw .invalidArgument("\(name) is NULL; pass the address of a pointer to receive the result")
  }
  out.pointee = nil
  return out
}

/// Copies a Swift string into memory from malloc, for `opstatus_free`.
func mallocCString(_ text: String) throws(OpStatusError) -> UnsafeMutablePointer<CChar> {
  guard let copy = strdup(text) else {
    throw OpStatusError(.outOfMemory, "could not allocate \(text.utf8.count + 1) bytes")
  }
  return copy
}

/// Serialises a result value to malloc'd JSON text and releases the value.
func dumpAndRelease(_ value: JSONPointer) throws(OpStatusError) -> UnsafeMutablePointer<CChar> {
  defer { json_decref(value) }
  guard let text = dumpJSON(value) else {
    throw OpStatusError(.outOfMemory, "could not serialise the result")
  }
  return text
}

/// Parses JSON text that a caller passed in.
func parseCallerJSON(_ text: UnsafePointer<CChar>?, field: String) throws(OpStatusError)
  -> JSONDocument
{
  guard let text else {
    throw .invalidArgument("\(field) is NULL; pass a JSON object as text")
  }
  switch JSONDocument.parse(text) {
  case .success(let document):
    return document
  case .failure(let error):
    throw .invalidArgument("\(field) is not valid JSON: \(error)")
  }
}
