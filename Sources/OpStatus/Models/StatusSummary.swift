/// How a site's status word is classified.
enum SiteState: String, Sendable {
  case succeeded
  case failed
  case pending
}

/// The sets of status words that mean success and failure.
///
/// The API publishes no list of status values; its one documented value is
/// `success`. Words are compared without regard to ASCII case, and any word
/// in neither set means the site is still pending.
struct StatusClassifier: Sendable, Equatable {
  private(set) var successWords: Set<String>
  private(set) var failureWords: Set<String>

  static let defaultSuccessWords = ["success", "succeeded", "completed", "complete", "done"]
  static let defaultFailureWords = [
    "failed", "failure", "error", "errored", "aborted", "cancelled", "timeout",
  ]

  init(
    successWords: [String] = StatusClassifier.defaultSuccessWords,
    failureWords: [String] = StatusClassifier.defaultFailureWords
  ) {
    self.successWords = Set(successWords.map(asciiLowercased))
    self.failureWords = Set(failureWords.map(asciiLowercased))
  }

  func classify(_ status: String?) -> SiteState {
    guard let status else { return .pending }
    let word = asciiLowercased(status)
    if failureWords.contains(word) { return .failed }
    if successWords.contains(word) { return .succeeded }
    return .pending
  }
}

/// Lower-cases ASCII letters only, so that the result does not depend on
/// locale data.
func asciiLowercased(_ text: String) -> String {
  var bytes = Array(text.utf8)
  var changed = false
  for index in bytes.indices where bytes[index] >= 0x41 && bytes[index] <= 0x5A {
    bytes[index] += 0x20
    changed = true
  }
  return changed ? String(decoding: bytes, as: UTF8.self) : text
}

/// The roll-up of every site's report, part of every status result.
struct StatusSummary: Sendable, Equatable {
  /// `succeeded` when at least one site reported and every reported site
  /// succeeded, `failed` when any site failed, else `pending`.
  var state: SiteState
  var sites = 0
  var succeeded = 0
  var failed = 0
  var pending = 0
  /// Totals over all sites. A sum of unsigned 64-bit values can pass
  /// `UInt64.max`, so the totals are 128-bit.
  var bytesPurged: UInt128 = 0
  var bytesNotPurged: UInt128 = 0
  var earliestStart: Timestamp?
  var latestFinish: Timestamp?
  /// The classification of each item, in the order of the items.
  var itemStates: [SiteState] = []

  init(items: [ServiceOperationItem], classifier: StatusClassifier) {
    state = .pending
    itemStates.reserveCapacity(items.count)
    for item in items {
      sites += 1
      let itemState = classifier.classify(item.status)
      itemStates.append(itemState)
      switch itemState {
      case .succeeded: succeeded += 1
      case .failed: failed += 1
      case .pending: pending += 1
      }

      guard let purge = item.purge else { continue }
      bytesPurged += UInt128(purge.bytesPurged ?? 0)
      bytesNotPurged += UInt128(purge.bytesNotPurged ?? 0)
      if let start = purge.startTime,
        earliestStart.map({ start.millisecondsSinceEpoch < $0.millisecondsSinceEpoch }) ?? true
      {
        earliestStart = start
      }
      if let finish = purge.finishTime,
        latestFinish.map({ finish.millisecondsSinceEpoch > $0.millisecondsSinceEpoch }) ?? true
      {
        latestFinish = finish
      }
    }

    if failed > 0 {
      state = .failed
    } else if sites > 0 && succeeded == sites {
      state = .succeeded
    }
  }
}
