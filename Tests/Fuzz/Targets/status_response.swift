// Fuzz target: the decoder of get-service-operation-status responses.
//
// Every input that parses as JSON goes through ServiceOperationStatus(json:),
// the summary and the result encoding. A decoded response must give a
// summary that counts every item, a result that serialises to valid JSON,
// and the same response when that result is decoded again.
//
// The same input also takes the path of a status call: the check in
// jansson's tree (examineStatus) and the result text, spliced into the
// input when the input needed no change. That path must accept exactly
// the inputs the decoder accepts, and its text and its tree must be the
// same JSON. The Swift tests check that both give the same message for
// an input with one fault.

import CJansson
import Glibc

@testable import OpStatus

@c(LLVMFuzzerTestOneInput)
public func fuzzStatusResponse(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  withParsedInput(data, size) { root in
    let status: ServiceOperationStatus
    do throws(JSONDecodingError) {
      status = try ServiceOperationStatus(json: root)
    } catch {
      _ = error.description
      checkInPlace(data, size, decoderError: error)
      return
    }
    checkStatus(status)
    checkInPlace(data, size, decoderError: nil)
  }
  return 0
}

/// Runs the call's path on a second parse of the input, since the check
/// changes the tree in place, and compares it with the decoder's verdict.
private func checkInPlace(_ data: UnsafePointer<UInt8>?, _ size: Int, decoderError: JSONDecodingError?) {
  let bytes = UnsafeRawBufferPointer(start: data, count: size)
  guard case .success(let document) = JSONDocument.parse(bytes) else {
    fuzzFailure("the input parsed once but not twice")
  }
  let examination: StatusExamination
  do throws(JSONDecodingError) {
    examination = try examineStatus(document.root, classifier: StatusClassifier())
  } catch {
    // Only the verdict is compared. With two faults in one object, the
    // check reports the first in the text, and the decoder the first in
    // its own order of keys.
    fuzzCheck(decoderError != nil, "the in-place check rejected what the decoder accepted: \(error)")
    return
  }
  fuzzCheck(decoderError == nil, "the in-place check accepted what the decoder rejected")

  let result = StatusResult(document: document, examination: examination, text: Array(bytes))
  guard let text = result.text() else {
    fuzzFailure("the result text failed without a memory shortage")
  }
  defer { free(text) }
  guard let value = result.value() else {
    fuzzFailure("the result value failed without a memory shortage")
  }
  defer { json_decref(value) }
  switch JSONDocument.parse(text) {
  case .success(let reparsed):
    withExtendedLifetime(reparsed) {
      fuzzCheck(json_equal(reparsed.root, value) != 0, "the result text and the result tree differ")
    }
  case .failure(let error):
    fuzzFailure("the result text is not JSON: \(error)")
  }
}

private func checkStatus(_ status: ServiceOperationStatus) {
  let items = status.items ?? []
  let summary = StatusSummary(items: items, classifier: StatusClassifier())
  fuzzCheck(summary.sites == items.count, "summary.sites \(summary.sites) != \(items.count) items")
  fuzzCheck(
    summary.succeeded + summary.failed + summary.pending == summary.sites,
    "the succeeded, failed and pending counts do not add up to sites")
  fuzzCheck(summary.itemStates.count == items.count, "one item state per item")

  // An error.code other than EOK and EPARTIAL fails the call. Either way
  // the check must return or throw, not crash.
  do throws(OpStatusError) {
    try checkAPIError(status.error, path: "/api/fuzz")
  } catch {
    fuzzCheck(error.code == .apiError, "checkAPIError threw \(error.code.cName)")
  }

  guard let result = status.encodeResult(summary: summary) else {
    fuzzFailure("encodeResult failed without a memory shortage")
  }
  defer { json_decref(result) }
  withReparsedValue(result) { root in
    let again: ServiceOperationStatus
    do throws(JSONDecodingError) {
      again = try ServiceOperationStatus(json: root)
    } catch {
      fuzzFailure("the encoded result does not decode: \(error)")
    }
    fuzzCheck((again.items ?? []) == items, "items changed in the round trip")
    fuzzCheck(again.error == status.error, "error changed in the round trip")
  }
}
