// Fuzz target: the readers of the requests that callers pass to the
// JSON-text C functions.
//
// Every input that parses as JSON goes through the status request reader
// (also with the wait options), the purge and list request readers and the
// reader of calls on many operations. Readers may fail only with
// OPSTATUS_EINVAL. An accepted request must encode a body that is read
// back as the same request.

import CJansson
import Glibc

@testable import OpStatus

/// A client for the batch reader, which takes the default max_connections
/// from the client. It is never used to send anything.
private let batchClient: Client = {
  let settings = #"{"api_url": "http://127.0.0.1:9", "api_token": "fuzz", "use_environment": false}"#
  let created: Result<Client, OpStatusError> = settings.withCString { text in
    do throws(OpStatusError) {
      return .success(try Client(configuration: Configuration(jsonText: text)))
    } catch {
      return .failure(error)
    }
  }
  switch created {
  case .success(let client):
    return client
  case .failure(let error):
    fuzzFailure("the batch reader's client could not be created: \(error.message)")
  }
}()

@c(LLVMFuzzerTestOneInput)
public func fuzzRequests(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  withParsedInput(data, size) { root in
    readStatusRequest(root)
    readWaitRequest(root)
    readPurgeRequest(root)
    readListRequest(root)
    readBatch(root)
  }
  return 0
}

private func expectCallerError(_ error: OpStatusError, _ reader: String) {
  fuzzCheck(
    error.code == .invalidArgument,
    "\(reader) gave \(error.code.cName): \(error.message)")
  fuzzCheck(!error.message.isEmpty, "\(reader) gave an error without a message")
}

/// Encodes a request body, parses it and passes the root to body.
private func withEncodedBody(_ encode: () throws(OpStatusError) -> [UInt8], _ body: (JSONPointer) -> Void) {
  let bytes: [UInt8]
  do throws(OpStatusError) {
    bytes = try encode()
  } catch {
    fuzzFailure("encoding an accepted request failed: \(error.message)")
  }
  let parsed = bytes.withUnsafeBytes { JSONDocument.parse($0) }
  guard case .success(let document) = parsed else {
    fuzzFailure("an encoded request body is not valid JSON")
  }
  withExtendedLifetime(document) { body(document.root) }
}

private func readStatusRequest(_ root: JSONPointer) {
  let request: StatusRequest
  do throws(OpStatusError) {
    request = try StatusRequest(json: root)
  } catch {
    expectCallerError(error, "StatusRequest")
    return
  }
  fuzzCheck(request.serviceOperationID >= 0, "a negative service_op_id was accepted")
  withEncodedBody(request.encodeBody) { body in
    do throws(OpStatusError) {
      var again = try StatusRequest(json: body)
      again.kind = request.kind
      fuzzCheck(again == request, "the status request changed in the round trip")
    } catch {
      fuzzFailure("an encoded status request is rejected: \(error.message)")
    }
  }
}

private func readWaitRequest(_ root: JSONPointer) {
  do throws(OpStatusError) {
    _ = try StatusRequest(json: root, allowing: WaitOptions.knownKeys)
    let reader: JSONObjectReader
    do throws(JSONDecodingError) {
      reader = try JSONObjectReader(root)
    } catch {
      fuzzFailure("an accepted wait request is not an object")
    }
    let options = try WaitOptions(reader: reader, defaults: StatusClassifier())
    fuzzCheck(options.maxDelayMilliseconds >= options.initialDelayMilliseconds, "max_delay_ms too small")
    var delay: Int64?
    for _ in 0..<64 {
      let next = options.delay(after: delay)
      fuzzCheck(next >= 1 && next <= options.maxDelayMilliseconds, "poll delay \(next) out of range")
      delay = next
    }
  } catch {
    expectCallerError(error, "the wait request reader")
  }
}

private func readPurgeRequest(_ root: JSONPointer) {
  let request: PurgeRequest
  do throws(OpStatusError) {
    request = try PurgeRequest(json: root)
  } catch {
    expectCallerError(error, "PurgeRequest")
    return
  }
  // The body carries only the target and the mode, because namespace,
  // name and kind travel in the path.
  withEncodedBody(request.encodeBody) { body in
    json_object_set_new(body, "namespace", makeJSONString(request.namespace))
    json_object_set_new(body, "name", makeJSONString(request.name))
    do throws(OpStatusError) {
      var again = try PurgeRequest(json: body)
      again.kind = request.kind
      fuzzCheck(again == request, "the purge request changed in the round trip")
    } catch {
      fuzzFailure("an encoded purge request is rejected: \(error.message)")
    }
  }
}

private func readListRequest(_ root: JSONPointer) {
  let request: ListRequest
  do throws(OpStatusError) {
    request = try ListRequest(json: root)
  } catch {
    expectCallerError(error, "ListRequest")
    return
  }
  withEncodedBody(request.encodeBody) { body in
    do throws(OpStatusError) {
      var again = try ListRequest(json: body)
      again.kind = request.kind
      fuzzCheck(again == request, "the list request changed in the round trip")
    } catch {
      fuzzFailure("an encoded list request is rejected: \(error.message)")
    }
  }
}

private func readBatch(_ root: JSONPointer) {
  for extraKeys in [[], WaitOptions.knownKeys] {
    do throws(OpStatusError) {
      let (entries, maxConnections, _) = try batchClient.readBatch(root, extraKeys: extraKeys)
      fuzzCheck((1...256).contains(maxConnections), "max_connections \(maxConnections)")
      for entry in entries {
        fuzzCheck((entry.request == nil) != (entry.error == nil), "an entry with both or neither")
        if let error = entry.error {
          expectCallerError(error, "a batch entry")
        }
      }
    } catch {
      expectCallerError(error, "the batch reader")
    }
  }
}
