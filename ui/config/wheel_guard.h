// Wheel events reach a spin box or combo box only when it has the keyboard
// focus: scrolling a form with the mouse wheel must scroll the form, not
// change whichever field happens to pass under the pointer (Max length 128
// became 124 that way). The event goes on to the scroll area instead.
#pragma once

class QWidget;

namespace loralab::ui {

// Guards every spin box and combo box inside `root` (present now), and makes
// them take focus by click or Tab rather than by the wheel.
void guardWheel(QWidget* root);

} // namespace loralab::ui
