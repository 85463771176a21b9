// Fuzz target: the decoder of list-service-operations-status responses.
//
// A decoded list must encode to valid JSON that decodes to the same list.

import CJansson
import Glibc

@testable import OpStatus

@c(LLVMFuzzerTestOneInput)
public func fuzzListResponse(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  withParsedInput(data, size) { root in
    let list: ServiceOperationList
    do throws(JSONDecodingError) {
      list = try ServiceOperationList(json: root)
    } catch {
      _ = error.description
      return
    }
    checkList(list)
  }
  return 0
}

private func checkList(_ list: ServiceOperationList) {
  do throws(OpStatusError) {
    try checkAPIError(list.error, path: "/api/fuzz")
  } catch {
    fuzzCheck(error.code == .apiError, "checkAPIError threw \(error.code.cName)")
  }

  guard let result = list.encode() else {
    fuzzFailure("encode failed without a memory shortage")
  }
  defer { json_decref(result) }
  withReparsedValue(result) { root in
    let again: ServiceOperationList
    do throws(JSONDecodingError) {
      again = try ServiceOperationList(json: root)
    } catch {
      fuzzFailure("the encoded list does not decode: \(error)")
    }
    fuzzCheck((again.items ?? []) == (list.items ?? []), "items changed in the round trip")
    fuzzCheck(again.error == list.error, "error changed in the round trip")
  }
}
