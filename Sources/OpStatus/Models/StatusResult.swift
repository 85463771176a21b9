import CJansson
import Glibc

/// A checked status response and its summary, ready to become the result
/// of a call: a jansson value with `state` on every item and `summary`, or
/// the same as JSON text.
final class StatusResult {
  let document: JSONDocument
  let examination: StatusExamination
  /// The response text, kept when the tree needed no change, so that the
  /// text result can be spliced from it instead of serialised again.
  private let canonicalText: [UInt8]?
  private var finished = false

  init(document: JSONDocument, examination: StatusExamination, text: [UInt8]?) {
    self.document = document
    self.examination = examination
    canonicalText = examination.isCanonical ? text : nil
  }

  var summary: StatusSummary { examination.summary }

  /// Returns the result as a new reference to the response tree, with
  /// `state` on every item and the `summary`, or nil when memory runs out.
  func value() -> JSONPointer? {
    guard finishTree() else { return nil }
    return json_incref(document.root)
  }

  /// Returns the result as compact JSON text from malloc, for `opstatus_free`.
  func text() -> UnsafeMutablePointer<CChar>? {
    if !finished, let canonicalText, let spliced = spliceResult(canonicalText, summary: summary) {
      return spliced
    }
    guard finishTree() else { return nil }
    return dumpJSON(document.root)
  }

  /// Returns the site of every item, sorted, to compare the sites of two polls.
  func sortedSites() -> [String] {
    var sites: [String] = []
    guard let items = json_object_get(document.root, "items") else { return sites }
    for index in 0..<json_array_size(items) {
      let purge = json_object_get(json_array_get(items, index), "purge")
      let site = purge.flatMap { json_object_get($0, "site") }
      sites.append(site.map { $0.stringValue } ?? "")
    }
    return sites.sorted()
  }

  /// Adds `state` to every item and the summary to the tree, once.
  private func finishTree() -> Bool {
    if finished { return true }
    finished = true
    let states = summary.itemStates
    if let items = json_object_get(document.root, "items") {
      for index in 0..<min(json_array_size(items), states.count) {
        guard let item = json_array_get(items, index),
          json_object_set_new(item, "state", json_string(states[index].rawValue)) == 0
        else { return false }
      }
    }
    guard let encoded = summary.encode() else { return false }
    return json_object_set_new(document.root, "summary", encoded) == 0
  }
}

/// Builds the result text from a canonical response: `"state"` is inserted
/// first in every item and `"summary"` last in the top-level object. nil
/// when the text is not of the plain shape the splice expects, for example
/// when a key is written with escapes; the caller then serialises the tree.
func spliceResult(_ text: [UInt8], summary: StatusSummary) -> UnsafeMutablePointer<CChar>? {
  text.withUnsafeBufferPointer { bytes -> UnsafeMutablePointer<CChar>? in
    guard let base = bytes.baseAddress, let layout = scanStatusLayout(bytes),
      layout.itemStarts.count == summary.itemStates.count
    else { return nil }

    var summaryText = summary.encodeBytes()
    let emptyRoot = nextNonSpace(bytes, after: layout.rootStart) == layout.rootEnd
    if !emptyRoot { summaryText.insert(UInt8(ascii: ","), at: 0) }

    // Every item gets "state":"<word>" plus a comma unless it is empty.
    var extra = summaryText.count
    var emptyItems = [Bool](repeating: false, count: layout.itemStarts.count)
    for (position, start) in layout.itemStarts.enumerated() {
      emptyItems[position] = nextNonSpace(bytes, after: start).map { bytes[$0] == UInt8(ascii: "}") } ?? true
      extra += stateMember(summary.itemStates[position]).utf8CodeUnitCount + (emptyItems[position] ? 0 : 1)
    }

    guard let output = malloc(bytes.count + extra + 1)?.assumingMemoryBound(to: UInt8.self) else {
      return nil
    }
    var written = 0
    var copied = 0
    func copyText(upTo offset: Int) {
      memcpy(output + written, base + copied, offset - copied)
      written += offset - copied
      copied = offset
    }
    func write(_ piece: UnsafeRawBufferPointer) {
      memcpy(output + written, piece.baseAddress!, piece.count)
      written += piece.count
    }

    for (position, start) in layout.itemStarts.enumerated() {
      copyText(upTo: start + 1)
      let member = stateMember(summary.itemStates[position])
      write(UnsafeRawBufferPointer(start: member.utf8Start, count: member.utf8CodeUnitCount))
      if !emptyItems[position] {
        output[written] = UInt8(ascii: ",")
        written += 1
      }
    }
    copyText(upTo: layout.rootEnd)
    summaryText.withUnsafeBytes { write($0) }
    copyText(upTo: bytes.count)
    output[written] = 0
    return UnsafeMutableRawPointer(output).assumingMemoryBound(to: CChar.self)
  }
}

/// Returns the member spliced first into an item.
private func stateMember(_ state: SiteState) -> StaticString {
  switch state {
  case .succeeded: return #""state":"succeeded""#
  case .failed: return #""state":"failed""#
  case .pending: return #""state":"pending""#
  }
}

/// Offsets in the text of a status response: its outer braces and the
/// opening brace of every element of its top-level `items` array.
struct StatusLayout {
  var rootStart: Int
  var rootEnd: Int
  var itemStarts: [Int] = []
}

/// Finds the layout of valid JSON text, which jansson has already accepted,
/// so the scan only follows structure. nil for shapes it does not expect.
func scanStatusLayout(_ bytes: UnsafeBufferPointer<UInt8>) -> StatusLayout? {
  guard let rootStart = nextNonSpace(bytes, from: 0), bytes[rootStart] == UInt8(ascii: "{") else {
    return nil
  }
  var layout = StatusLayout(rootStart: rootStart, rootEnd: 0)
  var index = rootStart + 1
  while true {
    guard let keyStart = nextNonSpace(bytes, from: index) else { return nil }
    if bytes[keyStart] == UInt8(ascii: "}") {
      layout.rootEnd = keyStart
      break
    }
    if bytes[keyStart] == UInt8(ascii: ",") {
      index = keyStart + 1
      continue
    }
    guard bytes[keyStart] == UInt8(ascii: "\""), let keyEnd = skipString(bytes, at: keyStart),
      let colon = nextNonSpace(bytes, from: keyEnd), bytes[colon] == UInt8(ascii: ":"),
      let valueStart = nextNonSpace(bytes, from: colon + 1)
    else { return nil }

    let isItems = keyEnd - keyStart == 7 && bytes[(keyStart + 1)..<(keyEnd - 1)].elementsEqual("items".utf8)
    if isItems {
      guard bytes[valueStart] == UInt8(ascii: "["),
        let end = scanItems(bytes, at: valueStart, into: &layout.itemStarts)
      else { return nil }
      index = end
    } else {
      guard let end = skipValue(bytes, at: valueStart) else { return nil }
      index = end
    }
  }
  guard nextNonSpace(bytes, from: layout.rootEnd + 1) == nil else { return nil }
  return layout
}

/// Records where each element of an array starts; returns the offset after
/// the closing bracket.
private func scanItems(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int, into starts: inout [Int])
  -> Int?
{
  var index = start + 1
  while let next = nextNonSpace(bytes, from: index) {
    switch bytes[next] {
    case UInt8(ascii: "]"):
      return next + 1
    case UInt8(ascii: ","):
      index = next + 1
    case UInt8(ascii: "{"):
      starts.append(next)
      guard let end = skipValue(bytes, at: next) else { return nil }
      index = end
    default:
      return nil
    }
  }
  return nil
}

/// Returns the offset after the value that starts at `start`.
private func skipValue(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int) -> Int? {
  switch bytes[start] {
  case UInt8(ascii: "\""):
    return skipString(bytes, at: start)
  case UInt8(ascii: "{"), UInt8(ascii: "["):
    var depth = 0
    var index = start
    while index < bytes.count {
      let byte = bytes[index]
      // Colons, commas and digits, the usual bytes between strings, lie
      // between the quote and the bracket in ASCII, so one check skips them.
      if byte > UInt8(ascii: "\"") && byte < UInt8(ascii: "[") {
        index += 1
        continue
      }
      switch byte {
      case UInt8(ascii: "\""):
        guard let end = skipString(bytes, at: index) else { return nil }
        index = end
        continue
      case UInt8(ascii: "{"), UInt8(ascii: "["):
        depth += 1
      case UInt8(ascii: "}"), UInt8(ascii: "]"):
        depth -= 1
        if depth == 0 { return index + 1 }
      default:
        break
      }
      index += 1
    }
    return nil
  default:
    var index = start
    while index < bytes.count {
      switch bytes[index] {
      case UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x09, 0x0A, 0x0D:
        return index
      default:
        index += 1
      }
    }
    return index
  }
}

/// Returns the offset after the string that starts at `start`. memchr finds each
/// quote; a quote after an odd number of backslashes is part of the string.
private func skipString(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int) -> Int? {
  guard let base = bytes.baseAddress else { return nil }
  var index = start + 1
  while index < bytes.count {
    guard let found = memchr(base + index, Int32(UInt8(ascii: "\"")), bytes.count - index) else {
      return nil
    }
    let quote = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
    var backslashes = 0
    while quote - backslashes - 1 > start && bytes[quote - backslashes - 1] == UInt8(ascii: "\\") {
      backslashes += 1
    }
    if backslashes % 2 == 0 { return quote + 1 }
    index = quote + 1
  }
  return nil
}

private func nextNonSpace(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
  var index = start
  while index < bytes.count {
    switch bytes[index] {
    case 0x20, 0x09, 0x0A, 0x0D:
      index += 1
    default:
      return index
    }
  }
  return nil
}

private func nextNonSpace(_ bytes: UnsafeBufferPointer<UInt8>, after start: Int) -> Int? {
  nextNonSpace(bytes, from: start + 1)
}
