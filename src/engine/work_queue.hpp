// WorkQueue: a fixed set of threads running queued tasks in order of arrival. Used for blocking
// reads of the store, so that I/O threads never wait on a disk.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace vigil::engine {

class WorkQueue {
 public:
  WorkQueue() = default;
  ~WorkQueue();  // runs what is queued, then joins
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  void Start(int threads);
  // Runs `task` on one of the threads; after Stop, on the caller's thread.
  void Post(std::function<void()> task);
  void Stop();

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;  // Guarded by mu_
  bool stopping_ = false;                    // Guarded by mu_
  std::vector<std::thread> threads_;
};

}  // namespace vigil::engine
