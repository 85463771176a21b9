// Fuzz target: the decoder of cache-purge responses.
//
// A decoded response must carry a non-negative operation id and encode to
// {"purge_request_id": N} with the same id.

import CJansson
import Glibc

@testable import OpStatus

@c(LLVMFuzzerTestOneInput)
public func fuzzPurgeResponse(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  withParsedInput(data, size) { root in
    let response: PurgeResponse
    do throws(JSONDecodingError) {
      response = try PurgeResponse(json: root)
    } catch {
      _ = error.description
      return
    }
    fuzzCheck(response.purgeRequestID >= 0, "negative purge_request_id \(response.purgeRequestID)")

    guard let result = response.encode() else {
      fuzzFailure("encode failed without a memory shortage")
    }
    defer { json_decref(result) }
    withReparsedValue(result) { root in
      do throws(JSONDecodingError) {
        let again = try PurgeResponse(json: root)
        fuzzCheck(again == response, "purge_request_id changed in the round trip")
      } catch {
        fuzzFailure("the encoded response does not decode: \(error)")
      }
    }
  }
  return 0
}
