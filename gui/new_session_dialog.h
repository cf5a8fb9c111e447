// "New Session…": starts `airlock run` with a profile, a task and the
// first folders, in a terminal the person picks, so that the agent has one.
#pragma once

#include <QDialog>
#include <QStringList>

class QComboBox;
class QLineEdit;
class QListWidget;

namespace airlock::gui {

struct Terminal {
  QString name;     // shown
  QString program;  // absolute path
  QStringList run_prefix;  // what comes before the command: "-e", "--"
};

// The terminals found on $PATH, the desktop's choice first.
QList<Terminal> find_terminals();

class NewSessionDialog : public QDialog {
  Q_OBJECT

 public:
  NewSessionDialog(const QString& airlock, QWidget* parent = nullptr);

  // The terminal's full command line for what the dialog holds.
  QStringList command_line() const;
  // Starts it; false with a message to the person when it cannot.
  bool launch();

  QComboBox* profile() const { return profile_; }
  QLineEdit* task() const { return task_; }
  QListWidget* folders() const { return folders_; }
  QLineEdit* command() const { return command_; }
  QComboBox* terminal() const { return terminal_; }

 private:
  QString airlock_;
  QList<Terminal> terminals_;
  QComboBox* profile_ = nullptr;
  QLineEdit* task_ = nullptr;
  QListWidget* folders_ = nullptr;
  QLineEdit* command_ = nullptr;
  QComboBox* terminal_ = nullptr;
};

// TEXT split into words as a shell would: '...' and "..." quote, \\ escapes.
QStringList split_command(const QString& text);

// The profiles `airlock run --profile` knows: names of *.profile files.
QStringList find_profiles();

}  // namespace airlock::gui
