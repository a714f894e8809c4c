#pragma once
// The application's icon (compiled into the program from resources/, so an installed workbench needs no
// files beside it) and its About box.
#include <QIcon>

class QMessageBox;
class QWidget;

namespace continua::ui {

// Every hicolor size of resources/icons, so the window manager picks a sharp one.
QIcon applicationIcon();

// Version, commit, licence and what the program is for, with the icon. Not shown: the caller decides how
// (exec() for the Help menu, grab() for the documentation screenshot).
QMessageBox* makeAboutBox(QWidget* parent);

}  // namespace continua::ui
