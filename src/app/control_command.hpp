#pragma once
// Run-time control of a running engine: the routes the engine serves on its loopback control
// endpoint, and the `twinstar status` / `twinstar bot ...` commands that call them.

#include <filesystem>

#include <CLI/CLI.hpp>

#include "app/app_options.hpp"
#include "engine/engine_control.hpp"
#include "observe/control_server.hpp"

namespace twinstar {

// Where the engine publishes control.json and control.token: DATA_DIR/state.
std::filesystem::path control_state_dir(const AppOptions& options);

// GET /status (JSON), GET /status.txt, POST /bots/{pause,resume,stop,symbols,params}.
// Handlers post jobs to `mailbox` and wait at most a few seconds for the engine's answer.
void add_engine_routes(observe::ControlServer& server, EngineMailbox& mailbox);

void add_control_commands(CLI::App& root, AppOptions& options);

}  // namespace twinstar
