// Fuzz target: the decoder of get-service-operation-status responses.
//
// Every input that parses as JSON goes through ServiceOperationStatus(json:),
// the summary and the result encoding. A decoded response must give a
// summary that counts every item, a result that serialises to valid JSON,
// and the same response when that result is decoded again.

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
      return
    }
    checkStatus(status)
  }
  return 0
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
