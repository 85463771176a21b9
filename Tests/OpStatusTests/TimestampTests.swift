import Testing

@testable import OpStatus

/// RFC 3339 times and unix timestamps, checked against instants computed
/// independently of the parser.
@Suite struct TimestampParsing {
  /// 2019-09-23T12:32:11.733Z in milliseconds since the epoch.
  static let reference: Int64 = 1_569_241_931_733

  @Test func epochIsZero() {
    #expect(Timestamp("1970-01-01T00:00:00Z")?.millisecondsSinceEpoch == 0)
  }

  @Test func utcWithMilliseconds() {
    let timestamp = Timestamp("2019-09-23T12:32:11.733Z")
    #expect(timestamp?.millisecondsSinceEpoch == Self.reference)
  }

  @Test func textKeptAsSent() {
    let text = "2019-09-23T14:32:11.733+02:00"
    #expect(Timestamp(text)?.text == text)
  }

  @Test func positiveOffset() {
    let timestamp = Timestamp("2019-09-23T14:32:11.733+02:00")
    #expect(timestamp?.millisecondsSinceEpoch == Self.reference)
  }

  @Test func negativeOffsetWithMinutes() {
    let timestamp = Timestamp("2019-09-23T07:02:11.733-05:30")
    #expect(timestamp?.millisecondsSinceEpoch == Self.reference)
  }

  @Test func zeroOffset() {
    let timestamp = Timestamp("2019-09-23T12:32:11.733+00:00")
    #expect(timestamp?.millisecondsSinceEpoch == Self.reference)
  }

  @Test func offsetCrossesMidnight() {
    let timestamp = Timestamp("2019-09-24T01:32:11.733+13:00")
    #expect(timestamp?.millisecondsSinceEpoch == Self.reference)
  }

  @Test(arguments: [
    (".7", 700),
    (".73", 730),
    (".733", 733),
    (".7339", 733),
    (".73391", 733),
    (".733912", 733),
    (".7339125", 733),
    (".73391256", 733),
    (".733912567", 733),
  ])
  func fractionDigits(fraction: String, milliseconds: Int64) {
    let timestamp = Timestamp("2019-09-23T12:32:11\(fraction)Z")
    #expect(timestamp?.millisecondsSinceEpoch == Self.reference - 733 + milliseconds)
  }

  @Test func noFraction() {
    let timestamp = Timestamp("2019-09-23T12:32:11Z")
    #expect(timestamp?.millisecondsSinceEpoch == Self.reference - 733)
  }

  @Test func lowerCaseSeparators() {
    let timestamp = Timestamp("2019-09-23t12:32:11.733z")
    #expect(timestamp?.millisecondsSinceEpoch == Self.reference)
  }

  @Test func spaceSeparator() {
    let timestamp = Timestamp("2019-09-23 12:32:11.733Z")
    #expect(timestamp?.millisecondsSinceEpoch == Self.reference)
  }

  @Test func leapDayInLeapYear() {
    #expect(Timestamp("2020-02-29T00:00:00Z")?.millisecondsSinceEpoch == 1_582_934_400_000)
  }

  @Test func leapDayInCenturyLeapYear() {
    #expect(Timestamp("2000-02-29T12:00:00Z")?.millisecondsSinceEpoch == 951_825_600_000)
  }

  @Test func leapDayInCommonYear() {
    #expect(Timestamp("2019-02-29T00:00:00Z") == nil)
  }

  @Test func leapDayInCenturyCommonYear() {
    #expect(Timestamp("1900-02-29T00:00:00Z") == nil)
  }

  @Test func leapSecondAccepted() {
    // RFC 3339 allows second 60. It counts as the first second of the next
    // minute because the parser has no leap second table.
    #expect(Timestamp("2016-12-31T23:59:60Z")?.millisecondsSinceEpoch == 1_483_228_800_000)
  }

  @Test func beforeEpoch() {
    #expect(Timestamp("1969-12-31T23:59:59.500Z")?.millisecondsSinceEpoch == -500)
  }

  @Test(arguments: [
    "2019-13-01T00:00:00Z",
    "2019-00-01T00:00:00Z",
    "2019-01-00T00:00:00Z",
    "2019-01-32T00:00:00Z",
    "2019-04-31T00:00:00Z",
    "2019-09-23T24:00:00Z",
    "2019-09-23T12:60:00Z",
    "2019-09-23T12:32:61Z",
    "2019-09-23T12:32:11+24:00",
    "2019-09-23T12:32:11+02:60",
  ])
  func outOfRangeFieldRejected(text: String) {
    #expect(Timestamp(text) == nil)
  }

  @Test func unixSeconds() {
    #expect(Timestamp("1569241931")?.millisecondsSinceEpoch == Self.reference - 733)
  }

  @Test func unixWithFraction() {
    #expect(Timestamp("1569241931.733")?.millisecondsSinceEpoch == Self.reference)
  }

  @Test func unixWithShortFraction() {
    #expect(Timestamp("1569241931.7")?.millisecondsSinceEpoch == Self.reference - 33)
  }

  @Test func unixZero() {
    #expect(Timestamp("0")?.millisecondsSinceEpoch == 0)
  }

  @Test(arguments: [
    "",
    "yesterday",
    "2019-09-23",
    "2019-09-23T12:32:11",
    "2019-09-23T12:32:11+0200",
    "2019-09-23T12:32:11.Z",
    "2019-09-23T12:32:11ZZ",
    "2019-09-23X12:32:11Z",
    "2019/09/23T12:32:11Z",
    " 2019-09-23T12:32:11Z",
    "2019-09-23T12:32:11Z ",
    "1569241931.",
    ".733",
    "-1",
    "+1569241931",
    "1e9",
    "0x5D88BB4B",
    "1569241931 ",
    "1569241931733123",
  ])
  func garbageRejected(text: String) {
    #expect(Timestamp(text) == nil)
  }

  @Test func ordersAcrossOffsets() throws {
    // The text of the first sorts after the second, but it is earlier.
    let early = try #require(Timestamp("2019-09-23T13:00:00+02:00"))
    let late = try #require(Timestamp("2019-09-23T12:00:00Z"))
    #expect(early.millisecondsSinceEpoch < late.millisecondsSinceEpoch)
  }
}

@Suite struct UnixSecondsFormatting {
  @Test func fractionBecomesRFC3339() {
    #expect(Timestamp(unixSeconds: 1.5)?.text == "1970-01-01T00:00:01.500Z")
  }

  @Test func knownTimeRoundTrips() {
    let timestamp = Timestamp(unixSeconds: 1_569_241_931.733)
    #expect(timestamp?.text == "2019-09-23T12:32:11.733Z")
    #expect(timestamp?.millisecondsSinceEpoch == 1_569_241_931_733)
  }

  @Test func leapDayFormatted() {
    #expect(Timestamp(unixSeconds: 951_782_400)?.text == "2000-02-29T00:00:00.000Z")
  }

  @Test func negativeRejected() {
    #expect(Timestamp(unixSeconds: -1) == nil)
  }

  @Test func infinityRejected() {
    #expect(Timestamp(unixSeconds: .infinity) == nil)
  }
}
