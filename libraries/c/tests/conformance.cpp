// Conformance writer (C++11): writes the records of Spec/vectors/logfile/conformance.json
// through the dvic_log.h API into a log named "conformance-cpp" (in $DVIC_LOG_DIR).
//
// Like conformance.c it reads the vector as lines of "<level> <message as hex UTF-8>",
// made by libraries/conformance/run-writers.  Usage: conformance-cpp RECORDS_FILE
#include "../dvic_log.h"

#include <fstream>
#include <iostream>
#include <map>
#include <string>

int main(int argc, char **argv) {
    if (argc != 2) {
        std::cerr << "usage: " << argv[0] << " RECORDS_FILE\n";
        return 2;
    }
    std::ifstream in(argv[1], std::ios::binary);
    if (!in) {
        std::cerr << "conformance-cpp: cannot read " << argv[1] << "\n";
        return 2;
    }
    typedef void (*level_fn)(dvic_log_t *, const char *, ...);
    const std::map<std::string, level_fn> levels = {
        {"trace", dvic_log_trace}, {"debug", dvic_log_debug}, {"info", dvic_log_info},
        {"warn", dvic_log_warn},   {"error", dvic_log_error}, {"fatal", dvic_log_fatal},
    };
    dvic_log_t *log = dvic_log_open("conformance-cpp");
    if (!log || !dvic_log_path(log)) {
        std::cerr << "conformance-cpp: could not open the log file\n";
        return 1;
    }
    std::cout << dvic_log_path(log) << "\n";
    std::string line;
    int count = 0;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        std::string::size_type space = line.find(' ');
        auto level = levels.find(line.substr(0, space));
        if (space == std::string::npos || level == levels.end()) {
            std::cerr << "conformance-cpp: bad line " << line << "\n";
            return 2;
        }
        std::string hex = line.substr(space + 1), message;
        for (std::string::size_type i = 0; i + 1 < hex.size(); i += 2) {
            message.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
        }
        level->second(log, "%s", message.c_str());
        count++;
    }
    dvic_log_close(log);
    return count > 0 ? 0 : 1;
}
