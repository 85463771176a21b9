/// Classification of a site's status word.
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

  /// The same words as bytes, for classifying a status in place.
  private var successBytes: [[UInt8]]
  private var failureBytes: [[UInt8]]

  init(
    successWords: [String] = StatusClassifier.defaultSuccessWords,
    failureWords: [String] = StatusClassifier.defaultFailureWords
  ) {
    self.successWords = Set(successWords.map(asciiLowercased))
    self.failureWords = Set(failureWords.map(asciiLowercased))
    successBytes = self.successWords.map { Array($0.utf8) }
    failureBytes = self.failureWords.map { Array($0.utf8) }
  }

  /// Classifies the UTF-8 bytes of a status word without making a string.
  func classify(bytes: UnsafeBufferPointer<UInt8>) -> SiteState {
    if failureBytes.contains(where: { equalIgnoringASCIICase(bytes, $0) }) { return .failed }
    if successBytes.contains(where: { equalIgnoringASCIICase(bytes, $0) }) { return .succeeded }
    return .pending
  }

  func classify(_ status: String?) -> SiteState {
    guard let status else { return .pending }
    let word = asciiLowercased(status)
    if failureWords.contains(word) { return .failed }
    if successWords.contains(word) { return .succeeded }
    return .pending
  }
}

/// Compares bytes with lower-case bytes, ignoring the case of ASCII letters.
func equalIgnoringASCIICase(_ bytes: UnsafeBufferPointer<UInt8>, _ lowercase: [UInt8]) -> Bool {
  guard bytes.count == lowercase.count else { return false }
  for index in 0..<bytes.count {
    var byte = bytes[index]
    if byte >= 0x41 && byte <= 0x5A { byte += 0x20 }
    if byte != lowercase[index] { return false }
  }
  return true
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

  /// Creates a summary with no sites yet, to be filled in item by item.
  init() {
    state = .pending
  }

  /// Sets `state` from the counts once every item has been added.
  mutating func finishState() {
    if failed > 0 {
      state = .failed
    } else if sites > 0 && succeeded == sites {
      state = .succeeded
    } else {
      state = .pending
    }
  }

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
