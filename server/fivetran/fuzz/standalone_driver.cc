// Runs a libFuzzer-style target without libFuzzer (for gcc builds and CI):
// every file of the seed corpus, then mutations of the seeds (bit flips,
// byte insertions/deletions, splices, truncations) for a bounded time.
// Usage: <binary> [--seconds=N] [CORPUS_FILE_OR_DIR...]
// The real coverage-guided run is tools/fuzz.sh (clang -fsanitize=fuzzer).
#include <dirent.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

void Collect(const std::string& path, std::vector<std::string>* out) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return;
  if (S_ISDIR(st.st_mode)) {
    DIR* dir = opendir(path.c_str());
    if (dir == nullptr) return;
    while (dirent* e = readdir(dir)) {
      if (e->d_name[0] == '.') continue;
      Collect(path + "/" + e->d_name, out);
    }
    closedir(dir);
    return;
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  out->push_back(s.str());
}

void Run(const std::string& input) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(input.data()), input.size());
}

std::string Mutate(const std::vector<std::string>& seeds, std::mt19937_64& rng) {
  std::string s = seeds[rng() % seeds.size()];
  int rounds = 1 + static_cast<int>(rng() % 8);
  static const char kTokens[][12] = {"null", "true",        "{",    "}",         "[",
                                     "]",    "\"",          ",",    ":",         "1e999",
                                     "-0",   "\"\\u0000\"", "\xff", "9999999999"};
  for (int i = 0; i < rounds; ++i) {
    size_t pos = s.empty() ? 0 : rng() % (s.size() + 1);
    switch (rng() % 6) {
      case 0:
        if (!s.empty()) s[pos % s.size()] ^= static_cast<char>(1 << (rng() % 8));
        break;
      case 1:
        s.insert(pos, 1, static_cast<char>(rng() % 256));
        break;
      case 2:
        if (!s.empty()) s.erase(pos % s.size(), 1 + rng() % 8);
        break;
      case 3:
        s.insert(pos, kTokens[rng() % (sizeof(kTokens) / sizeof(kTokens[0]))]);
        break;
      case 4: {
        const std::string& other = seeds[rng() % seeds.size()];
        if (!other.empty()) s.insert(pos, other.substr(rng() % other.size()));
        break;
      }
      default:
        s.resize(pos);
        break;
    }
    if (s.size() > 1 << 16) s.resize(1 << 16);
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  double seconds = 5;
  std::vector<std::string> seeds;
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--seconds=", 10) == 0) {
      seconds = std::atof(argv[i] + 10);
    } else {
      Collect(argv[i], &seeds);
    }
  }
  if (const char* env = std::getenv("FUZZ_SECONDS")) seconds = std::atof(env);
  if (seeds.empty()) seeds.push_back("");
  for (const std::string& s : seeds) Run(s);
  std::mt19937_64 rng(20261129);  // Fixed: a failure reproduces.
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  uint64_t runs = 0;
  while (std::chrono::steady_clock::now() < end) {
    Run(Mutate(seeds, rng));
    ++runs;
  }
  std::printf("%zu seeds, %llu mutated inputs in %.1f s: no crash\n", seeds.size(),
              static_cast<unsigned long long>(runs), seconds);
  return 0;
}
