// Executor: a thread that runs work posted to it, in the order posted. The server's I/O threads
// are executors; the live hub delivers each commit to the subscribers living on one of them with
// one task there, instead of one cross-thread wake-up per subscriber.
#pragma once

#include <functional>

namespace vigil {

class Executor {
 public:
  virtual ~Executor() = default;
  // Runs `task` on the executor's thread, after everything posted before it. From any thread.
  // A task posted once the executor is shutting down may be dropped without running.
  virtual void Post(std::function<void()> task) = 0;
};

}  // namespace vigil
