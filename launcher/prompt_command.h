// `airlock prompt`: a terminal prompter for the portal's "ask" requests,
// interactive or scripted (answer the next matching requests).
#pragma once

namespace airlock {

int prompt_command(int argc, char** argv);

}  // namespace airlock
