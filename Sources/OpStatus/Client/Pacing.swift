import Glibc
import Synchronization

/// Sleeps that another thread can cut short, used for retry delays, the
/// rate limit and (later) polling.
///
/// `cancel()` wakes every sleeper and makes later sleeps return at once
/// until `reset()`. The wait uses a condition variable on the monotonic
/// clock, so a sleeping thread costs no CPU and a change of the wall clock
/// does not stretch a delay.
final class Sleeper: @unchecked Sendable {
  private let mutex: UnsafeMutablePointer<pthread_mutex_t>
  private let condition: UnsafeMutablePointer<pthread_cond_t>
  private var cancelled = false
  /// A copy of `cancelled` that transfers read without taking the mutex,
  /// since libcurl asks several times a second during every transfer.
  private let cancelledFlag = Atomic<Bool>(false)

  init() {
    mutex = .allocate(capacity: 1)
    mutex.initialize(to: pthread_mutex_t())
    pthread_mutex_init(mutex, nil)

    condition = .allocate(capacity: 1)
    condition.initialize(to: pthread_cond_t())
    var attributes = pthread_condattr_t()
    pthread_condattr_init(&attributes)
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
    pthread_cond_init(condition, &attributes)
    pthread_condattr_destroy(&attributes)
  }

  deinit {
    pthread_cond_destroy(condition)
    condition.deallocate()
    pthread_mutex_destroy(mutex)
    mutex.deallocate()
  }

  var isCancelled: Bool {
    cancelledFlag.load(ordering: .acquiring)
  }

  func cancel() {
    pthread_mutex_lock(mutex)
    cancelled = true
    cancelledFlag.store(true, ordering: .releasing)
    pthread_cond_broadcast(condition)
    pthread_mutex_unlock(mutex)
  }

  func reset() {
    pthread_mutex_lock(mutex)
    cancelled = false
    cancelledFlag.store(false, ordering: .releasing)
    pthread_mutex_unlock(mutex)
  }

  /// Sleeps for `milliseconds`; returns false when cancelled first.
  func sleep(milliseconds: Int64) -> Bool {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    let delay = max(milliseconds, 0)
    var wake = timespec()
    let nanoseconds = Int64(now.tv_nsec) + (delay % 1000) * 1_000_000
    wake.tv_sec = now.tv_sec + Int(delay / 1000) + Int(nanoseconds / 1_000_000_000)
    wake.tv_nsec = Int(nanoseconds % 1_000_000_000)

    pthread_mutex_lock(mutex)
    defer { pthread_mutex_unlock(mutex) }
    while !cancelled {
      if pthread_cond_timedwait(condition, mutex, &wake) == ETIMEDOUT {
        return !cancelled
      }
    }
    return false
  }
}

/// A token bucket shared by every thread that uses one client: `rate`
/// tokens per second flow in, at most `burst` wait unused, and each request
/// takes one.
final class RateLimiter: @unchecked Sendable {
  private let lock = Lock()
  private let rate: Double
  private let burst: Double
  private var tokens: Double
  /// Microseconds on the monotonic clock, since milliseconds would let
  /// rounding add up to a rate slightly above the limit.
  private var updatedAt: Int64

  init(ratePerSecond: Double, burst: Int64) {
    rate = ratePerSecond
    self.burst = Double(burst)
    tokens = Double(burst)
    updatedAt = monotonicMicroseconds()
  }

  /// Takes a token now and returns 0, or reserves the next one and returns
  /// how many milliseconds the caller must wait before sending. Reserving
  /// keeps waiting threads in order instead of letting them race.
  func reserve() -> Int64 {
    lock.withLock {
      let now = monotonicMicroseconds()
      tokens = min(burst, tokens + Double(now - updatedAt) * rate / 1_000_000)
      updatedAt = now
      tokens -= 1
      if tokens >= 0 { return 0 }
      return Int64((-tokens * 1000 / rate).rounded(.up))
    }
  }

  /// Gives back a reservation that was not used, such as when the wait
  /// would pass the deadline.
  func release() {
    lock.withLock { tokens = min(burst, tokens + 1) }
  }
}
