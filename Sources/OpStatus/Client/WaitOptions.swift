/// Polling schedule and stop rules of a wait.
///
/// The first poll is sent at once. The delay before each later poll starts
/// at `initialDelay`, grows by `growth` after every poll and stays at or
/// below `maxDelay`. No poll starts after the deadline.
struct WaitOptions: Sendable, Equatable {
  var initialDelayMilliseconds: Int64 = 1000
  var growth = 1.5
  var maxDelayMilliseconds: Int64 = 15_000
  var deadlineMilliseconds: Int64 = 600_000
  var classifier: StatusClassifier
  /// Stop as soon as a site failed. When false, polling goes on until no
  /// site is pending, so the result shows every site's final word.
  var stopOnFailure = true
  /// Sites that must have reported before the operation counts as done;
  /// nil means at least one.
  var expectedSites: Int?
  /// Time in ms for which the set of sites must stay unchanged and all
  /// succeeded before the operation counts as done, for sites that report
  /// late. At least one more poll always confirms the set.
  var settleMilliseconds: Int64 = 0

  static let knownKeys = [
    "initial_delay_ms", "growth", "max_delay_ms", "deadline_ms", "success_statuses",
    "failure_statuses", "stop_on_failure", "expected_sites", "settle_ms",
  ]

  init(classifier: StatusClassifier) {
    self.classifier = classifier
  }

  /// Reads the options of a wait request; absent keys keep the defaults.
  init(reader: JSONObjectReader, defaults classifier: StatusClassifier) throws(OpStatusError) {
    self.classifier = classifier
    do {
      if let value = try reader.nonNegativeInt64("initial_delay_ms") {
        initialDelayMilliseconds = try checkWaitRange(value, "initial_delay_ms", 1...3_600_000)
      }
      if let value = try reader.double("growth") {
        guard value >= 1, value <= 10 else {
          throw OpStatusError.invalidArgument("growth is \(value); use a factor from 1 to 10")
        }
        growth = value
      }
      if let value = try reader.nonNegativeInt64("max_delay_ms") {
        maxDelayMilliseconds = try checkWaitRange(value, "max_delay_ms", 1...3_600_000)
      }
      if let value = try reader.nonNegativeInt64("deadline_ms") {
        deadlineMilliseconds = try checkWaitRange(value, "deadline_ms", 1...Configuration.maxMilliseconds)
      }
      if let value = try reader.bool("stop_on_failure") {
        stopOnFailure = value
      }
      if let value = try reader.nonNegativeInt64("expected_sites") {
        expectedSites = Int(try checkWaitRange(value, "expected_sites", 1...100_000))
      }
      if let value = try reader.nonNegativeInt64("settle_ms") {
        settleMilliseconds = try checkWaitRange(value, "settle_ms", 0...3_600_000)
      }
      let success = try Configuration.readWords(reader, "success_statuses")
      let failure = try Configuration.readWords(reader, "failure_statuses")
      if success != nil || failure != nil {
        self.classifier = StatusClassifier(
          successWords: success ?? Array(classifier.successWords),
          failureWords: failure ?? Array(classifier.failureWords))
      }
    } catch let error as JSONDecodingError {
      throw .invalidArgument("request \(error.pathText): \(error.problem)")
    } catch let error as OpStatusError {
      throw error
    } catch {
      throw OpStatusError(.internalError, "unexpected error in the wait options: \(error)")
    }
    if maxDelayMilliseconds < initialDelayMilliseconds {
      throw .invalidArgument(
        "max_delay_ms (\(maxDelayMilliseconds)) is below initial_delay_ms "
          + "(\(initialDelayMilliseconds)); raise max_delay_ms")
    }
  }

  /// Returns the delay that follows `previous`, grown and capped.
  func delay(after previous: Int64?) -> Int64 {
    guard let previous else { return initialDelayMilliseconds }
    let grown = Double(previous) * growth
    return grown >= Double(maxDelayMilliseconds) ? maxDelayMilliseconds : Int64(grown)
  }
}

private func checkWaitRange(_ value: Int64, _ key: String, _ range: ClosedRange<Int64>)
  throws(OpStatusError) -> Int64
{
  guard range.contains(value) else {
    throw .invalidArgument(
      "\(key) is \(value); use a value from \(range.lowerBound) to \(range.upperBound)")
  }
  return value
}

/// End state of a wait, or `pending` while it goes on.
enum WaitOutcome: String, Sendable {
  case pending
  case succeeded
  case failed
  case timeout
  case cancelled
  /// The operation's status could not be read, and the error tells why.
  case error
}

/// Decides from successive polls of one operation whether it has finished.
///
/// An operation has succeeded when at least one site (or `expected_sites`)
/// has reported, every reported site succeeded, and two polls in a row
/// show the same sites all succeeded, at least `settle_ms` apart. An empty
/// list means nothing has reported yet, never done. It has failed as soon
/// as any site failed, or with `stop_on_failure` false, once a site failed
/// and none is pending.
struct WaitTracker {
  let options: WaitOptions
  private var succeededSites: [String]?
  private var succeededSince: Int64 = 0

  init(options: WaitOptions) {
    self.options = options
  }

  /// Takes one poll's summary; `sites` gives the sorted sites of the poll
  /// and is called only when every site succeeded.
  mutating func update(_ summary: StatusSummary, sites: () -> [String], now: Int64) -> WaitOutcome {
    if summary.failed > 0 {
      succeededSites = nil
      return options.stopOnFailure || summary.pending == 0 ? .failed : .pending
    }

    let enoughSites = summary.sites >= (options.expectedSites ?? 1)
    guard summary.state == .succeeded, enoughSites else {
      succeededSites = nil
      return .pending
    }

    let sites = sites()
    if let previous = succeededSites, previous == sites {
      return now - succeededSince >= options.settleMilliseconds ? .succeeded : .pending
    }
    succeededSites = sites
    succeededSince = now
    return .pending
  }
}
