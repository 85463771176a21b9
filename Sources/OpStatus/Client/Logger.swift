import COpStatusABI
import Synchronization

/// Severity of a log message; the values are those of Python's `logging`
/// module, so bindings can pass them through.
enum LogLevel: Int32, Sendable, Comparable {
  case debug = 10
  case info = 20
  case warning = 30
  case error = 40

  static func < (lhs: LogLevel, rhs: LogLevel) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// A log callback and the least severe level it receives.
///
/// The host sets it with `opstatus_set_log_callback`. Messages never
/// contain the token, a password or key material: they are built from
/// methods, paths, statuses, times and error messages, which never hold
/// secrets either.
final class Logger: @unchecked Sendable {
  typealias Callback = @convention(c) (opstatus_log_level, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void

  private struct Target {
    var level: LogLevel
    var callback: Callback
    var payload: UnsafeMutableRawPointer?
  }

  private let lock = Lock()
  private var target: Target?
  /// The level of `target`, or `Int32.max` without one. It is read without
  /// the lock, because every request checks it, from any thread.
  private let leastLevel = Atomic<Int32>(Int32.max)
  private let redactor: SecretRedactor

  init(redactor: SecretRedactor) {
    self.redactor = redactor
  }

  func set(level: LogLevel, callback: Callback?, payload: UnsafeMutableRawPointer?) {
    lock.withLock {
      target = callback.map { Target(level: level, callback: $0, payload: payload) }
      leastLevel.store(callback == nil ? Int32.max : level.rawValue, ordering: .releasing)
    }
  }

  /// Whether a message at `level` would be delivered, so that callers can
  /// skip building it.
  func isEnabled(_ level: LogLevel) -> Bool {
    level.rawValue >= leastLevel.load(ordering: .acquiring)
  }

  /// Delivers a message. The callback runs outside the lock, so it may
  /// call back into the library, and on the thread that made the request.
  func log(_ level: LogLevel, _ message: @autoclosure () -> String) {
    guard isEnabled(level), let current = lock.withLock({ target }), level >= current.level else { return }
    let text = redactor.redact(message())
    text.withCString { pointer in
      current.callback(opstatus_log_level(rawValue: UInt32(level.rawValue)), pointer, current.payload)
    }
  }
}
