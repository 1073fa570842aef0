// `vigil tail` end to end: a real `vigil serve` (port 0, SQLite in a temporary directory) and
// `vigil tail` run as a child process, its stdout read line by line as it prints.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "support/api_calls.hpp"
#include "support/http_client.hpp"
#include "support/vigil_process.hpp"

extern char** environ;

namespace vigil::test {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

constexpr auto kDeadline = std::chrono::seconds(20);

// `vigil tail ...` as a child process with stdout and stderr on pipes. Every read has a deadline;
// the child is killed when this object goes away while it still runs.
class TailProcess {
 public:
  // args: what follows `vigil`; token: VIGIL_TOKEN for the child (unset when empty).
  static std::unique_ptr<TailProcess> Start(const std::vector<std::string>& args,
                                            const std::string& token) {
    std::unique_ptr<TailProcess> p(new TailProcess());
    // Built before fork: the child may only make async-signal-safe calls until it execs.
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) {
      if (!std::string_view(*e).starts_with("VIGIL_TOKEN=")) env_strings.emplace_back(*e);
    }
    if (!token.empty()) env_strings.push_back("VIGIL_TOKEN=" + token);
    std::vector<char*> envp;
    for (std::string& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> arg_copies = {VIGIL_BINARY};
    arg_copies.insert(arg_copies.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (std::string& s : arg_copies) argv.push_back(s.data());
    argv.push_back(nullptr);

    int out[2], err[2];
    if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
      ADD_FAILURE() << "pipe2: " << std::strerror(errno);
      return nullptr;
    }
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    const pid_t parent = getpid();
    p->pid_ = fork();
    if (p->pid_ == 0) {
      if (null_fd >= 0) dup2(null_fd, STDIN_FILENO);
      dup2(out[1], STDOUT_FILENO);
      dup2(err[1], STDERR_FILENO);
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(127);
      execve(argv[0], argv.data(), envp.data());
      _exit(127);
    }
    close(out[1]);
    close(err[1]);
    if (null_fd >= 0) close(null_fd);
    p->out_fd_ = out[0];
    p->err_fd_ = err[0];
    if (p->pid_ < 0) {
      ADD_FAILURE() << "fork: " << std::strerror(errno);
      return nullptr;
    }
    return p;
  }

  ~TailProcess() {
    if (!exit_code_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_fd_ >= 0) close(out_fd_);
    if (err_fd_ >= 0) close(err_fd_);
  }

  // The next line of stdout (without its newline); nullopt at the end of the output or when none
  // came within `timeout`.
  std::optional<std::string> ReadLine(std::chrono::milliseconds timeout = kDeadline) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      if (size_t nl = out_.find('\n'); nl != std::string::npos) {
        std::string line = out_.substr(0, nl);
        out_.erase(0, nl + 1);
        return line;
      }
      if (out_fd_ < 0 || !Pump(deadline)) return std::nullopt;
    }
  }

  // The next `n` lines; fewer (with a test failure) when they did not all come in time.
  std::vector<std::string> ReadLines(size_t n) {
    std::vector<std::string> lines;
    while (lines.size() < n) {
      std::optional<std::string> line = ReadLine();
      if (!line) {
        ADD_FAILURE() << "tail printed " << lines.size() << " of " << n
                      << " expected lines; stderr:\n"
                      << err_;
        break;
      }
      lines.push_back(std::move(*line));
    }
    return lines;
  }

  // True once stderr contains `text`; false when it did not within the deadline.
  bool WaitForStderr(std::string_view text) {
    const auto deadline = Clock::now() + kDeadline;
    while (err_.find(text) == std::string::npos) {
      if (!Pump(deadline)) return false;
    }
    return true;
  }

  // Reads stdout to its end (the lines left go to `rest`), then returns the exit code; -1 when
  // the child did not finish within the deadline.
  int Wait(std::vector<std::string>* rest = nullptr) {
    if (exit_code_) return *exit_code_;
    const auto deadline = Clock::now() + kDeadline;
    while (out_fd_ >= 0 || err_fd_ >= 0) {
      if (!Pump(deadline)) return -1;
    }
    while (std::optional<std::string> line = ReadLine()) {
      if (rest) rest->push_back(std::move(*line));
    }
    for (;;) {
      int status = 0;
      pid_t done = waitpid(pid_, &status, WNOHANG);
      if (done == pid_) {
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return *exit_code_;
      }
      if (Clock::now() >= deadline) return -1;
      // Both pipes are closed, so the child is exiting: polling its state with a deadline.
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }

  const std::string& stderr_text() const { return err_; }

 private:
  TailProcess() = default;

  // Waits until a pipe has bytes (or closes) and takes them. False at the deadline, or when both
  // pipes are closed.
  bool Pump(Clock::time_point deadline) {
    pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
    if (out_fd_ < 0 && err_fd_ < 0) return false;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    int ready = poll(fds, 2, static_cast<int>(left.count()));
    if (ready < 0 && errno == EINTR) return true;
    if (ready <= 0) return false;
    Take(fds[0], out_fd_, out_);
    Take(fds[1], err_fd_, err_);
    return true;
  }

  static void Take(const pollfd& p, int& fd, std::string& into) {
    if (fd < 0 || p.revents == 0) return;
    char buffer[8192];
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n > 0) {
      into.append(buffer, static_cast<size_t>(n));
    } else if (n == 0 || errno != EINTR) {
      close(fd);
      fd = -1;
    }
  }

  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  std::string out_;
  std::string err_;
  std::optional<int> exit_code_;
};

class TailTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir();
    owner_token_ = TestToken("analyst-1", {"read", "dev"});
    owner_ = Auth(owner_token_);
  }

  // A server on the test's database; port 0 picks a free one. A short retry: hint keeps the
  // client's reconnects quick.
  void StartServer(std::vector<std::string> extra = {}, uint16_t port = 0) {
    VigilOptions options;
    options.db_path = dir_ + "/vigil.db";
    options.port = port;
    options.extra_args = {"--sse-retry-ms", "100"};
    options.extra_args.insert(options.extra_args.end(), extra.begin(), extra.end());
    server_ = VigilProcess::Start(options);
    ASSERT_NE(server_, nullptr);
    client_ = std::make_unique<HttpClient>("127.0.0.1", server_->port());
  }

  static Headers Auth(const std::string& token) { return BearerJson(token); }

  std::string Create(const Headers& who) { return CreateInvestigation(*client_, who, "tailed"); }

  // Reports `n` error_logged events numbered from `first`.
  void Report(const std::string& id, int first, int n) {
    ASSERT_EQ(ReportErrors(*client_, id, owner_, first, n, n, "network_agent").size(),
              static_cast<size_t>(n));
  }

  void Cancel(const std::string& id) {
    HttpResult r =
        client_->Post("/api/v1/investigations/" + id + "/cancel", R"({"reason":"done"})", owner_);
    ASSERT_EQ(r.status, 200) << r.body;
  }

  // The whole log, as GET /events serves it.
  json::array Events(const std::string& id) {
    std::vector<json::value> log = ReadLog(*client_, id, owner_);
    return json::array(log.begin(), log.end());
  }

  std::unique_ptr<TailProcess> Tail(const std::string& id, std::vector<std::string> args,
                                    const std::string& token) {
    std::vector<std::string> all = {"tail", id, "--url",
                                    "http://127.0.0.1:" + std::to_string(server_->port())};
    all.insert(all.end(), args.begin(), args.end());
    auto tail = TailProcess::Start(all, token);
    EXPECT_NE(tail, nullptr);
    return tail;
  }

  // Every line is the JSON of the event at the same place in `expected`, and there are as many.
  static void ExpectSameEvents(const std::vector<std::string>& lines, const json::array& expected) {
    ASSERT_EQ(lines.size(), expected.size());
    for (size_t i = 0; i < lines.size(); ++i) {
      json::error_code ec;
      json::value line = json::parse(lines[i], ec);
      ASSERT_FALSE(ec) << "line " << i << " is not JSON: " << lines[i];
      EXPECT_EQ(line, expected[i]) << "line " << i;
    }
  }

  static json::array Slice(const json::array& all, size_t from, size_t to) {
    json::array out;
    for (size_t i = from; i < to && i < all.size(); ++i) out.push_back(all[i]);
    return out;
  }

  static std::vector<std::string> Concat(std::vector<std::string> a,
                                         const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  }

  std::string dir_;
  std::string owner_token_;
  Headers owner_;
  std::unique_ptr<VigilProcess> server_;
  std::unique_ptr<HttpClient> client_;
};

TEST_F(TailTest, TailPrintsTheLogAndExitsAtCaughtUp) {
  StartServer();
  std::string id = Create(owner_);
  Report(id, 0, 25);
  auto tail = Tail(id, {"--json"}, owner_token_);
  std::vector<std::string> lines;
  ASSERT_EQ(tail->Wait(&lines), 0) << tail->stderr_text();
  json::array events = Events(id);
  EXPECT_EQ(events.size(), 26u);  // investigation_created and the 25 reported
  ExpectSameEvents(lines, events);
}

TEST_F(TailTest, TailPrintsOneReadableLinePerEvent) {
  StartServer();
  std::string id = Create(owner_);
  Report(id, 0, 3);
  auto tail = Tail(id, {}, owner_token_);
  std::vector<std::string> lines;
  ASSERT_EQ(tail->Wait(&lines), 0) << tail->stderr_text();
  json::array events = Events(id);
  ASSERT_EQ(lines.size(), events.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    const json::object& e = events[i].as_object();
    std::string actor(e.at("actor").as_string());
    EXPECT_EQ(lines[i], std::string(e.at("timestamp").as_string()) + "  " +
                            std::string(e.at("event_type").as_string()) + "  " +
                            (actor.empty() ? "-" : actor) + "  " + json::serialize(e.at("data")));
  }
}

TEST_F(TailTest, TailFollowPrintsLiveEventsAndExitsAtTheEnd) {
  StartServer();
  std::string id = Create(owner_);
  Report(id, 0, 5);
  auto tail = Tail(id, {"--follow", "--json"}, owner_token_);
  std::vector<std::string> lines = tail->ReadLines(6);
  Report(id, 5, 5);
  lines = Concat(lines, tail->ReadLines(5));
  ExpectSameEvents(lines, Slice(Events(id), 0, 11));
  Report(id, 10, 3);
  Cancel(id);
  std::vector<std::string> rest;
  EXPECT_EQ(tail->Wait(&rest), 0) << tail->stderr_text();
  ExpectSameEvents(Concat(lines, rest), Events(id));
  EXPECT_NE(tail->stderr_text().find("the run ended"), std::string::npos) << tail->stderr_text();
}

TEST_F(TailTest, TailSincePrintsOnlyLaterEvents) {
  StartServer();
  std::string id = Create(owner_);
  Report(id, 0, 10);
  json::array events = Events(id);
  std::string since(events[4].at("event_id").as_string());
  auto tail = Tail(id, {"--json", "--since", since}, owner_token_);
  std::vector<std::string> lines;
  ASSERT_EQ(tail->Wait(&lines), 0) << tail->stderr_text();
  ExpectSameEvents(lines, Slice(events, 5, events.size()));
}

TEST_F(TailTest, TailOfAnotherUsersInvestigationExits1) {
  StartServer();
  std::string others = Create(Auth(TestToken("analyst-2", {"read", "dev"})));
  HttpResult seen = client_->Get("/api/v1/investigations/" + others, owner_);
  ASSERT_EQ(seen.status, 404);
  std::string detail(seen.Json().at("detail").as_string());

  auto tail = Tail(others, {"--follow"}, owner_token_);
  std::vector<std::string> lines;
  EXPECT_EQ(tail->Wait(&lines), 1);
  EXPECT_TRUE(lines.empty());
  EXPECT_NE(tail->stderr_text().find(detail), std::string::npos) << tail->stderr_text();

  auto anonymous = Tail(others, {}, "");
  EXPECT_EQ(anonymous->Wait(), 1);
  EXPECT_NE(anonymous->stderr_text().find("401"), std::string::npos) << anonymous->stderr_text();
}

TEST_F(TailTest, TailUsageErrorsExit2) {
  StartServer();
  EXPECT_EQ(Tail("x", {"--since", "yesterday"}, owner_token_)->Wait(), 2);
  EXPECT_EQ(TailProcess::Start({"tail", "x", "--url", "ftp://example"}, owner_token_)->Wait(), 2);
  EXPECT_EQ(TailProcess::Start({"tail"}, owner_token_)->Wait(), 2);  // no investigation id
  EXPECT_EQ(TailProcess::Start({"tail", "x", "--no-such-flag"}, owner_token_)->Wait(), 2);
  EXPECT_EQ(TailProcess::Start({"tail", "--help"}, owner_token_)->Wait(), 0);
}

// The server asks every stream to reconnect after a second; tail resumes with Last-Event-ID.
TEST_F(TailTest, TailFollowResumesAfterTheServerAsksToReconnect) {
  StartServer({"--sse-max-duration-seconds", "1"});
  std::string id = Create(owner_);
  Report(id, 0, 5);
  auto tail = Tail(id, {"--follow", "--json"}, owner_token_);
  std::vector<std::string> lines = tail->ReadLines(6);
  ASSERT_TRUE(tail->WaitForStderr("asked to reconnect")) << tail->stderr_text();
  Report(id, 5, 5);
  lines = Concat(lines, tail->ReadLines(5));
  Cancel(id);
  std::vector<std::string> rest;
  EXPECT_EQ(tail->Wait(&rest), 0) << tail->stderr_text();
  ExpectSameEvents(Concat(lines, rest), Events(id));
}

// One stream per user: a second tail meets a 503 and waits out its Retry-After; without --follow
// it gives up at once.
TEST_F(TailTest, TailFollowWaitsOutA503) {
  StartServer({"--max-streams-per-user", "1"});
  std::string first = Create(owner_);
  std::string second = Create(owner_);
  auto holder = Tail(first, {"--follow", "--json"}, owner_token_);
  ASSERT_EQ(holder->ReadLines(1).size(), 1u);  // its stream is open

  auto waiting = Tail(second, {"--follow", "--json"}, owner_token_);
  ASSERT_TRUE(waiting->WaitForStderr("answered 503")) << waiting->stderr_text();
  auto once = Tail(second, {"--json"}, owner_token_);
  EXPECT_EQ(once->Wait(), 1);
  EXPECT_NE(once->stderr_text().find("answered 503"), std::string::npos) << once->stderr_text();

  Cancel(first);
  EXPECT_EQ(holder->Wait(), 0) << holder->stderr_text();
  Report(second, 0, 3);
  std::vector<std::string> lines = waiting->ReadLines(4);
  Cancel(second);
  std::vector<std::string> rest;
  EXPECT_EQ(waiting->Wait(&rest), 0) << waiting->stderr_text();
  ExpectSameEvents(Concat(lines, rest), Events(second));
}

// kill -9 of the server, a new one on the same port and database: tail reconnects by itself and
// goes on where it stopped.
TEST_F(TailTest, TailFollowSurvivesAServerRestart) {
  StartServer();
  std::string id = Create(owner_);
  Report(id, 0, 5);
  auto tail = Tail(id, {"--follow", "--json"}, owner_token_);
  std::vector<std::string> lines = tail->ReadLines(6);

  const uint16_t port = server_->port();
  server_->Kill(SIGKILL);
  server_->Wait();
  ASSERT_TRUE(tail->WaitForStderr("reconnecting")) << tail->stderr_text();
  StartServer({}, port);
  Report(id, 5, 5);
  lines = Concat(lines, tail->ReadLines(5));
  Cancel(id);
  std::vector<std::string> rest;
  EXPECT_EQ(tail->Wait(&rest), 0) << tail->stderr_text();
  ExpectSameEvents(Concat(lines, rest), Events(id));
}

}  // namespace
}  // namespace vigil::test
