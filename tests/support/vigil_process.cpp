#include "vigil_process.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <thread>

#include "base/clock.hpp"
#include "http/auth.hpp"

extern char** environ;

namespace vigil::test {
namespace {

using Env = std::vector<std::pair<std::string, std::string>>;

constexpr auto kDeadline = std::chrono::seconds(20);
constexpr auto kPollInterval = std::chrono::milliseconds(10);
constexpr size_t kLogTail = 64 << 10;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string Tail(std::string text) {
  if (text.size() <= kLogTail) return text;
  return "...\n" + text.substr(text.size() - kLogTail);
}

int DecodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

// The exit code (see DecodeStatus) once `pid` has exited, or nullopt after `timeout`.
std::optional<int> WaitFor(pid_t pid, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) return DecodeStatus(status);
    if (done < 0 && errno != EINTR) return -1;  // Not our child (any more).
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(kPollInterval);  // Polling a condition with a deadline.
  }
}

// Starts `args` (args[0] is the program) with stdout and stderr appended to `log_path`, our
// environment plus `env`. Returns the pid, or -1 with `error` set.
pid_t Spawn(const std::vector<std::string>& args, const Env& env, const std::string& log_path,
            std::string& error) {
  // Everything the child needs is built before fork: in a process with threads, the child may
  // only make async-signal-safe calls until it execs.
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string_view entry(*e);
    std::string_view name = entry.substr(0, entry.find('='));
    bool overridden = false;
    for (const auto& [key, value] : env) overridden = overridden || key == name;
    if (!overridden) env_strings.emplace_back(entry);
  }
  for (const auto& [key, value] : env) env_strings.push_back(key + "=" + value);
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> arg_copies(args);
  std::vector<char*> argv;
  for (std::string& s : arg_copies) argv.push_back(s.data());
  argv.push_back(nullptr);

  int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0) {
    error = "cannot open " + log_path + ": " + std::strerror(errno);
    return -1;
  }
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  const pid_t parent = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    execve(argv[0], argv.data(), envp.data());
    static constexpr char kExecFailed[] = "vigil_process: exec failed\n";
    (void)!write(STDERR_FILENO, kExecFailed, sizeof(kExecFailed) - 1);
    _exit(127);
  }
  const int fork_errno = errno;
  close(log_fd);
  if (null_fd >= 0) close(null_fd);
  if (pid < 0) {
    error = std::string("fork: ") + std::strerror(fork_errno);
    return -1;
  }
  return pid;
}

std::optional<uint16_t> ReadPort(const std::string& path) {
  std::string text = ReadFile(path);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.pop_back();
  if (text.empty() || text.size() > 5) return std::nullopt;
  int port = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    port = port * 10 + (c - '0');
  }
  if (port <= 0 || port > 65535) return std::nullopt;
  return static_cast<uint16_t>(port);
}

// Every directory MakeTempDir made in this process, removed when it exits — unless a test failed,
// so that its database and logs are there to look at.
std::mutex temp_dirs_mu;
std::vector<std::string>* temp_dirs = nullptr;  // Guarded by temp_dirs_mu; never freed

void RemoveTempDirs() {
  if (::testing::UnitTest::GetInstance()->Failed()) return;
  std::lock_guard lock(temp_dirs_mu);
  std::error_code ec;
  for (const std::string& dir : *temp_dirs) std::filesystem::remove_all(dir, ec);
}

}  // namespace

std::string MakeTempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string pattern =
      std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/vigil-test-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) {
    ADD_FAILURE() << "mkdtemp " << pattern << ": " << std::strerror(errno);
    return {};
  }
  std::lock_guard lock(temp_dirs_mu);
  if (!temp_dirs) {
    temp_dirs = new std::vector<std::string>();
    std::atexit(RemoveTempDirs);
  }
  temp_dirs->push_back(pattern);
  return pattern;
}

std::string TestToken(std::string user, std::vector<std::string> roles) {
  auto token = http::MintToken(kTestJwtSecret, user, roles, 3600, SystemClock().NowMs());
  if (!token) {
    ADD_FAILURE() << "cannot mint a test token: " << token.error().message;
    return {};
  }
  return *token;
}

std::unique_ptr<VigilProcess> VigilProcess::Start(const VigilOptions& options) {
  std::unique_ptr<VigilProcess> process(new VigilProcess());
  process->dir_ = MakeTempDir();
  if (process->dir_.empty()) return nullptr;
  process->log_path_ = process->dir_ + "/vigil.log";
  const std::string port_file = process->dir_ + "/port";
  Env env = {{"VIGIL_JWT_SECRET", kTestJwtSecret}};
  // Tests make many requests quickly; the rate limit is off unless a test sets it.
  bool sets_rate_limit = false;
  for (const auto& [key, value] : options.env) sets_rate_limit |= key == "RATE_LIMIT_ENABLED";
  if (!sets_rate_limit) env.emplace_back("RATE_LIMIT_ENABLED", "false");
  env.insert(env.end(), options.env.begin(), options.env.end());
  std::string error;

  pid_t migrate =
      Spawn({VIGIL_BINARY, "migrate", "--db", options.db_path}, env, process->log_path_, error);
  if (migrate < 0) {
    ADD_FAILURE() << "cannot run vigil migrate: " << error;
    return nullptr;
  }
  std::optional<int> migrated = WaitFor(migrate, kDeadline);
  if (!migrated) {
    kill(migrate, SIGKILL);
    WaitFor(migrate, kDeadline);
  }
  if (migrated != 0) {
    ADD_FAILURE() << "vigil migrate --db " << options.db_path << " "
                  << (migrated ? "exited " + std::to_string(*migrated) : "timed out") << "; log:\n"
                  << Tail(process->ReadLog());
    return nullptr;
  }

  const std::string listen = "127.0.0.1:" + std::to_string(options.port);
  std::vector<std::string> args = {VIGIL_BINARY, "serve",         "--listen",    listen,
                                   "--db",       options.db_path, "--port-file", port_file};
  args.insert(args.end(), options.extra_args.begin(), options.extra_args.end());
  process->pid_ = Spawn(args, env, process->log_path_, error);
  if (process->pid_ < 0) {
    ADD_FAILURE() << "cannot run vigil serve: " << error;
    return nullptr;
  }

  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  for (;;) {
    if (std::optional<uint16_t> port = ReadPort(port_file)) {
      process->port_ = *port;
      return process;
    }
    int status = 0;
    if (waitpid(process->pid_, &status, WNOHANG) == process->pid_) {
      process->exit_code_ = DecodeStatus(status);
      ADD_FAILURE() << "vigil serve exited " << *process->exit_code_ << " before listening; log:\n"
                    << Tail(process->ReadLog());
      return nullptr;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      ADD_FAILURE() << "vigil serve wrote no port to " << port_file << " within 20 s; log:\n"
                    << Tail(process->ReadLog());
      return nullptr;  // The destructor stops it.
    }
    std::this_thread::sleep_for(kPollInterval);  // Polling a condition with a deadline.
  }
}

VigilProcess::~VigilProcess() {
  if (pid_ > 0 && !exit_code_) {
    Kill(SIGTERM);
    Wait();
  }
  if (dir_.empty()) return;
  if (::testing::Test::HasFailure()) {
    std::cerr << "--- vigil log (" << log_path_ << ") ---\n"
              << Tail(ReadLog()) << "--- end of vigil log ---\n";
    return;  // Kept for a look.
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string VigilProcess::ReadLog() const { return ReadFile(log_path_); }

void VigilProcess::Kill(int signal) {
  if (pid_ > 0 && !exit_code_) kill(pid_, signal);
}

int VigilProcess::Wait() {
  if (exit_code_) return *exit_code_;
  if (pid_ <= 0) return -1;
  std::optional<int> code = WaitFor(pid_, kDeadline);
  if (!code) {
    ADD_FAILURE() << "vigil (pid " << pid_ << ") did not exit within 20 s; killing it";
    kill(pid_, SIGKILL);
    code = WaitFor(pid_, kDeadline);
  }
  exit_code_ = code.value_or(-1);
  return *exit_code_;
}

}  // namespace vigil::test
