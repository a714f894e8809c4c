#pragma once
// The workbench's QApplication. Qt cannot let an exception pass through its event loop (it terminates the
// program), and every view reads the run database from timers and signals: a database that becomes
// unreadable while the window is open (deleted, replaced, corrupted, locked past the busy timeout) would
// otherwise take the window and any training in it down. notify() catches what a handler throws and hands
// the message to whoever listens (the main window's log and status bar), and the program goes on.
#include <QApplication>

namespace continua::ui {

class GuardedApplication : public QApplication {
  Q_OBJECT
 public:
  GuardedApplication(int& argc, char** argv) : QApplication(argc, argv) {}
  bool notify(QObject* receiver, QEvent* event) override;
  // The application, when it is a GuardedApplication (it is not inside Qt Test's own QApplication).
  static GuardedApplication* instance() { return qobject_cast<GuardedApplication*>(QCoreApplication::instance()); }

 signals:
  void handlerFailed(const QString& message);
};

}  // namespace continua::ui
