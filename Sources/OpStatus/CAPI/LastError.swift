import COpStatusABI
import Glibc

/// The calling thread's last error, as `opstatus_last_error` returns it.
///
/// Each thread owns one record, created on first use and freed by the
/// pthread key's destructor when the thread exits. The C strings inside
/// stay valid until the next call that sets or clears the error.
final class ThreadErrorRecord {
  let record: UnsafeMutablePointer<opstatus_error>
  private var message: UnsafeMutablePointer<CChar>?
  private var apiCode: UnsafeMutablePointer<CChar>?
  private(set) var swiftError: OpStatusError?

  init() {
    record = .allocate(capacity: 1)
    record.initialize(
      to: opstatus_error(
        code: OPSTATUS_OK, http_status: 0, message: emptyCString, api_code: nil,
        retry_after_ms: -1))
  }

  deinit {
    free(message)
    free(apiCode)
    record.deallocate()
  }

  func set(_ error: OpStatusError) {
    free(message)
    free(apiCode)
    message = strdup(error.message)
    apiCode = error.apiCode.flatMap { strdup($0) }
    swiftError = error
    record.pointee = opstatus_error(
      code: opstatus_result(rawValue: UInt32(error.code.rawValue)),
      http_status: Int32(clamping: error.httpStatus ?? 0),
      message: UnsafePointer(message) ?? emptyCString,
      api_code: UnsafePointer(apiCode),
      retry_after_ms: error.retryAfterMilliseconds ?? -1)
  }

  func clear() {
    guard swiftError != nil else { return }
    free(message)
    free(apiCode)
    message = nil
    apiCode = nil
    swiftError = nil
    record.pointee = opstatus_error(
      code: OPSTATUS_OK, http_status: 0, message: emptyCString, api_code: nil,
      retry_after_ms: -1)
  }
}

/// A static empty C string for "no message".
nonisolated(unsafe) private let emptyCString: UnsafePointer<CChar> = {
  let pointer = UnsafeMutablePointer<CChar>.allocate(capacity: 1)
  pointer.initialize(to: 0)
  return UnsafePointer(pointer)
}()

private let errorKey: pthread_key_t = {
  var key = pthread_key_t()
  pthread_key_create(&key) { pointer in
    guard let pointer else { return }
    Unmanaged<ThreadErrorRecord>.fromOpaque(pointer).release()
  }
  return key
}()

/// The calling thread's record, created on first use.
func currentErrorRecord() -> ThreadErrorRecord {
  if let pointer = pthread_getspecific(errorKey) {
    return Unmanaged<ThreadErrorRecord>.fromOpaque(pointer).takeUnretainedValue()
  }
  let record = ThreadErrorRecord()
  pthread_setspecific(errorKey, Unmanaged.passRetained(record).toOpaque())
  return record
}
