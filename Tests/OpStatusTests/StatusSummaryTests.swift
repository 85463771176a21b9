import Testing

@testable import OpStatus

/// Makes an item with the given status. It gets a purge object only when
/// one of the purge fields is given.
func makeItem(
  status: String?, bytesPurged: UInt64? = nil, bytesNotPurged: UInt64? = nil,
  start: String? = nil, finish: String? = nil
) -> ServiceOperationItem {
  var item = ServiceOperationItem()
  item.status = status
  if bytesPurged != nil || bytesNotPurged != nil || start != nil || finish != nil {
    var purge = PurgeOperationItem()
    purge.bytesPurged = bytesPurged
    purge.bytesNotPurged = bytesNotPurged
    purge.startTime = start.flatMap { Timestamp($0) }
    purge.finishTime = finish.flatMap { Timestamp($0) }
    item.purge = purge
  }
  return item
}

/// Summarizes items with the default status words unless a classifier is
/// given.
func summarize(_ items: [ServiceOperationItem], classifier: StatusClassifier = StatusClassifier())
  -> StatusSummary
{
  StatusSummary(items: items, classifier: classifier)
}

@Suite struct StatusSummaryState {
  @Test func allSucceeded() {
    let summary = summarize([makeItem(status: "success"), makeItem(status: "success")])
    #expect(summary.state == .succeeded)
    #expect(summary.sites == 2)
    #expect(summary.succeeded == 2)
    #expect(summary.failed == 0)
    #expect(summary.pending == 0)
  }

  @Test func oneFailed() {
    let summary = summarize([
      makeItem(status: "success"), makeItem(status: "failed"), makeItem(status: "success"),
    ])
    #expect(summary.state == .failed)
    #expect(summary.failed == 1)
    #expect(summary.succeeded == 2)
  }

  @Test func failedWinsOverPending() {
    let summary = summarize([makeItem(status: "in_progress"), makeItem(status: "error")])
    #expect(summary.state == .failed)
  }

  @Test func emptyItemsPending() {
    let summary = summarize([])
    #expect(summary.state == .pending)
    #expect(summary.sites == 0)
  }

  @Test func unknownWordPending() {
    let summary = summarize([makeItem(status: "success"), makeItem(status: "queued")])
    #expect(summary.state == .pending)
    #expect(summary.pending == 1)
  }

  @Test func missingStatusPending() {
    let summary = summarize([makeItem(status: nil)])
    #expect(summary.state == .pending)
    #expect(summary.pending == 1)
  }

  @Test func caseInsensitive() {
    let summary = summarize([makeItem(status: "SUCCESS"), makeItem(status: "Completed")])
    #expect(summary.state == .succeeded)
  }

  @Test func caseInsensitiveFailure() {
    let summary = summarize([makeItem(status: "Failed")])
    #expect(summary.state == .failed)
  }

  @Test func defaultWords() {
    let classifier = StatusClassifier()
    for word in ["success", "succeeded", "completed", "complete", "done"] {
      #expect(classifier.classify(word) == .succeeded, "status \(word)")
    }
    for word in ["failed", "failure", "error", "errored", "aborted", "cancelled", "timeout"] {
      #expect(classifier.classify(word) == .failed, "status \(word)")
    }
  }

  @Test func onlyASCIILowerCased() {
    // U+0130 is an upper-case I with a dot. Full Unicode lower-casing would
    // turn "SUCCESS" with it into a different word, so it must not match.
    let classifier = StatusClassifier()
    #expect(classifier.classify("SUCCESS\u{130}") == .pending)
  }

  @Test func customWords() {
    let classifier = StatusClassifier(successWords: ["Purged"], failureWords: ["Rejected"])
    let succeeded = summarize([makeItem(status: "purged")], classifier: classifier)
    let failed = summarize([makeItem(status: "REJECTED")], classifier: classifier)
    #expect(succeeded.state == .succeeded)
    #expect(failed.state == .failed)
  }

  @Test func customWordsReplaceDefaults() {
    let classifier = StatusClassifier(successWords: ["purged"], failureWords: ["rejected"])
    let summary = summarize(
      [makeItem(status: "success"), makeItem(status: "failed")], classifier: classifier)
    #expect(summary.state == .pending)
    #expect(summary.pending == 2)
  }
}

@Suite struct StatusSummaryTotals {
  @Test func bytesAdded() {
    let summary = summarize([
      makeItem(status: "success", bytesPurged: 10, bytesNotPurged: 1),
      makeItem(status: "success", bytesPurged: 32, bytesNotPurged: 2),
    ])
    #expect(summary.bytesPurged == 42)
    #expect(summary.bytesNotPurged == 3)
  }

  @Test func bytesPastUInt64Maximum() {
    let summary = summarize([
      makeItem(status: "success", bytesPurged: .max, bytesNotPurged: .max),
      makeItem(status: "success", bytesPurged: .max, bytesNotPurged: .max),
    ])
    let expected = UInt128(UInt64.max) * 2
    #expect(summary.bytesPurged == expected)
    #expect(summary.bytesNotPurged == expected)
    #expect(String(summary.bytesPurged) == "36893488147419103230")
  }

  @Test func missingBytesAddNothing() {
    let summary = summarize([
      makeItem(status: "success", bytesPurged: 5),
      makeItem(status: "success"),
      makeItem(status: "success", bytesNotPurged: 7),
    ])
    #expect(summary.bytesPurged == 5)
    #expect(summary.bytesNotPurged == 7)
  }

  @Test func earliestStartByTime() {
    // As text, "…T13:00:00+02:00" sorts last, but it is the earliest instant.
    let summary = summarize([
      makeItem(status: "success", start: "2019-09-23T12:00:00Z"),
      makeItem(status: "success", start: "2019-09-23T13:00:00+02:00"),
      makeItem(status: "success", start: "2019-09-23T06:30:00-05:00"),
    ])
    #expect(summary.earliestStart?.text == "2019-09-23T13:00:00+02:00")
  }

  @Test func latestFinishByTime() {
    // As text, "…T09:00:00-05:00" sorts first, but it is the latest instant.
    let summary = summarize([
      makeItem(status: "success", finish: "2019-09-23T13:00:00Z"),
      makeItem(status: "success", finish: "2019-09-23T09:00:00-05:00"),
      makeItem(status: "success", finish: "2019-09-23T15:30:00+02:00"),
    ])
    #expect(summary.latestFinish?.text == "2019-09-23T09:00:00-05:00")
  }

  @Test func unixAndRFC3339Compared() {
    let summary = summarize([
      makeItem(status: "success", start: "2019-09-23T12:32:11.733Z", finish: "1569241940"),
      makeItem(status: "success", start: "1569241931.5", finish: "2019-09-23T12:32:19Z"),
    ])
    #expect(summary.earliestStart?.text == "1569241931.5")
    #expect(summary.latestFinish?.text == "1569241940")
  }

  @Test func timesAbsentWithoutPurge() {
    let summary = summarize([makeItem(status: "success", bytesPurged: 1)])
    #expect(summary.earliestStart == nil)
    #expect(summary.latestFinish == nil)
  }
}
