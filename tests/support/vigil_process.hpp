// Runs the real `vigil` binary (VIGIL_BINARY) as a child process, for end-to-end tests.
//
// Start() migrates the database (`vigil migrate --db <path>`, which must exit 0), then runs
//   vigil serve --listen 127.0.0.1:<port, 0 by default> --db <path> --port-file <tmp> <extra_args>
// with VIGIL_JWT_SECRET=kTestJwtSecret (plus options.env), and returns once the server has written
// its port to the port file (at most 20 s). The child's stdout and stderr go to a log file in a
// temporary directory; the log is printed when starting fails, and when the test has failed by
// the time the process is destroyed.
//
// The child gets SIGKILL if the thread that started it exits, so a crashed test leaves no server
// behind.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace vigil::test {

// 40 characters; the secret every test server and TestToken share.
inline constexpr char kTestJwtSecret[] = "vigil-test-secret-0123456789abcdefghijkl";

// A new empty directory under $TMPDIR (or /tmp), removed with everything in it when the test
// process exits — kept when a test failed.
std::string MakeTempDir();

// An HS256 token for `user` with `roles`, signed with kTestJwtSecret, valid for an hour.
std::string TestToken(std::string user, std::vector<std::string> roles);

struct VigilOptions {
  std::string db_path;
  std::vector<std::string> extra_args;
  std::vector<std::pair<std::string, std::string>> env;
  uint16_t port = 0;  // 0: any free port; a fixed one restarts a server where its clients expect it
};

class VigilProcess {
 public:
  // Null (with a test failure saying why, and the log) when migrate or serve fails.
  static std::unique_ptr<VigilProcess> Start(const VigilOptions& options);
  // SIGTERM, then waits for the exit (SIGKILL after 20 s).
  ~VigilProcess();
  VigilProcess(const VigilProcess&) = delete;
  VigilProcess& operator=(const VigilProcess&) = delete;

  uint16_t port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& log_path() const { return log_path_; }
  std::string ReadLog() const;

  void Kill(int signal);
  // The exit code, or 128 + the signal that ended it. Waits at most 20 s, then sends SIGKILL.
  // May be called again; returns the same code.
  int Wait();

 private:
  VigilProcess() = default;

  pid_t pid_ = -1;
  uint16_t port_ = 0;
  std::string dir_;
  std::string log_path_;
  std::optional<int> exit_code_;
};

}  // namespace vigil::test
