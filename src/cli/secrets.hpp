// Passwords: read without echo, never logged, wiped from the process title.
#pragma once
#include <optional>
#include <string>

namespace bridle::cli {

// Prompts on the terminal with echo off; nullopt when stdin is not a terminal.
std::optional<std::string> prompt_password(const std::string& prompt);
// Overwrites the values of password options in argv so they do not show in
// /proc/<pid>/cmdline or `ps` once parsing is done.
void scrub_secret_args(int argc, char** argv);

}  // namespace bridle::cli
