import CJansson

/// The end of a wait: how it ended and the last result, which carries the
/// last status read, with a `wait` object describing the polling.
struct WaitResult {
  var outcome: WaitOutcome
  /// Owned reference; nil only when no poll completed.
  var result: JSONPointer?
}

extension Client {
  /// Polls one operation until it has finished, the deadline passes, or the
  /// call is cancelled. `progress` receives every poll's result and returns
  /// false to cancel. A failed poll ends the wait with its error, except a
  /// timeout or cancellation, which end it with that outcome and the last
  /// status read.
  func wait(
    _ request: StatusRequest, options: WaitOptions, call: Sleeper,
    progress: (JSONPointer) -> Bool
  ) throws(OpStatusError) -> WaitResult {
    let started = monotonicMilliseconds()
    let deadline = started + options.deadlineMilliseconds
    var tracker = WaitTracker(options: options)
    var delay: Int64?
    var polls = 0
    var last: JSONPointer?

    func finish(_ outcome: WaitOutcome) -> WaitResult {
      if let last {
        setWaitInfo(last, outcome: outcome, polls: polls, started: started)
      }
      return WaitResult(outcome: outcome, result: last)
    }

    while true {
      if monotonicMilliseconds() >= deadline {
        logger.log(.info, "wait for operation \(request.serviceOperationID): deadline passed")
        return finish(.timeout)
      }
      polls += 1

      let status: StatusResult
      do {
        status = try getStatus(request, call: call, deadline: deadline, classifier: options.classifier)
      } catch {
        if error.code == .cancelled { return finish(.cancelled) }
        if error.code == .timeout && monotonicMilliseconds() >= deadline - 1 {
          return finish(.timeout)
        }
        if let last { json_decref(last) }
        throw error
      }

      let outcome = tracker.update(status.summary, sites: status.sortedSites, now: monotonicMilliseconds())
      guard let result = status.value() else {
        if let last { json_decref(last) }
        throw OpStatusError(.outOfMemory, "could not build the wait result")
      }
      if let last { json_decref(last) }
      last = result
      setWaitInfo(result, outcome: outcome, polls: polls, started: started)

      if !progress(result) { return finish(.cancelled) }
      if outcome != .pending { return finish(outcome) }

      delay = options.delay(after: delay)
      let remaining = deadline - monotonicMilliseconds()
      if !call.sleep(milliseconds: min(delay ?? 0, max(remaining, 0))) {
        return finish(.cancelled)
      }
    }
  }
}

/// Sets the `wait` object of a result: the outcome so far, the number of
/// polls and the time since the wait started.
func setWaitInfo(_ result: JSONPointer, outcome: WaitOutcome, polls: Int, started: Int64) {
  var info = JSONObjectBuilder()
  info.set("outcome", string: outcome.rawValue)
  info.set("polls", integer: Int64(polls))
  info.set("elapsed_ms", integer: monotonicMilliseconds() - started)
  if let object = info.finish() {
    json_object_set_new(result, "wait", object)
  }
}
