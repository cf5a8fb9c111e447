#include "new_session_dialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QProcess>
#include <QPushButton>
#include <QStandardPaths>
#include <QVBoxLayout>

#include "config.h"
#include "i18n.h"

namespace airlock::gui {

QList<Terminal> find_terminals() {
  struct Known {
    const char* name;
    const char* program;
    QStringList prefix;
  };
  const Known known[] = {
      {"x-terminal-emulator", "x-terminal-emulator", {QStringLiteral("-e")}},
      {"GNOME Terminal", "gnome-terminal", {QStringLiteral("--")}},
      {"Console", "kgx", {QStringLiteral("--")}},
      {"Konsole", "konsole", {QStringLiteral("-e")}},
      {"Xfce Terminal", "xfce4-terminal", {QStringLiteral("-x")}},
      {"xterm", "xterm", {QStringLiteral("-e")}},
  };
  QList<Terminal> found;
  for (const auto& k : known) {
    QString path = QStandardPaths::findExecutable(QLatin1String(k.program));
    if (!path.isEmpty()) found.append({QLatin1String(k.name), path, k.prefix});
  }
  return found;
}

QStringList split_command(const QString& text) {
  QStringList words;
  QString word;
  bool in_word = false;
  QChar quote;
  for (qsizetype i = 0; i < text.size(); ++i) {
    QChar c = text[i];
    if (!quote.isNull()) {
      if (c == quote) quote = QChar();
      else if (c == QLatin1Char('\\') && quote == QLatin1Char('"') && i + 1 < text.size()) word += text[++i];
      else word += c;
    } else if (c == QLatin1Char('\'') || c == QLatin1Char('"')) {
      quote = c;
      in_word = true;
    } else if (c == QLatin1Char('\\') && i + 1 < text.size()) {
      word += text[++i];
      in_word = true;
    } else if (c.isSpace()) {
      if (in_word) words << word;
      word.clear();
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (in_word) words << word;
  return words;
}

QStringList find_profiles() {
  QStringList dirs;
  QString from_env = qEnvironmentVariable("AIRLOCK_PROFILE_PATH");
  if (!from_env.isEmpty()) dirs += from_env.split(QLatin1Char(':'), Qt::SkipEmptyParts);
  dirs << QStandardPaths::writableLocation(QStandardPaths::GenericConfigLocation) + QStringLiteral("/airlock/profiles")
       << QStringLiteral(AIRLOCK_PROFILEDIR);
  QStringList names;
  for (const QString& dir : dirs)
    for (const QFileInfo& info : QDir(dir).entryInfoList({QStringLiteral("*.profile")}, QDir::Files, QDir::Name))
      if (!names.contains(info.completeBaseName())) names << info.completeBaseName();
  return names;
}

NewSessionDialog::NewSessionDialog(const QString& airlock, QWidget* parent) : QDialog(parent), airlock_(airlock) {
  setWindowTitle(_("New Session"));
  setObjectName(QStringLiteral("new-session-dialog"));
  auto* layout = new QVBoxLayout(this);
  auto* form = new QFormLayout;
  profile_ = new QComboBox(this);
  profile_->setObjectName(QStringLiteral("profile"));
  profile_->setEditable(true);
  profile_->addItems(find_profiles());
  int shell = profile_->findText(QStringLiteral("shell"));
  if (shell >= 0) profile_->setCurrentIndex(shell);
  form->addRow(_("&Profile:"), profile_);
  task_ = new QLineEdit(this);
  task_->setObjectName(QStringLiteral("task"));
  task_->setPlaceholderText(_("What the agent is to do, shown in every prompt"));
  form->addRow(_("&Task:"), task_);

  auto* folders_box = new QWidget(this);
  auto* folders_layout = new QHBoxLayout(folders_box);
  folders_layout->setContentsMargins(0, 0, 0, 0);
  folders_ = new QListWidget(folders_box);
  folders_->setObjectName(QStringLiteral("folders"));
  folders_->setAccessibleName(_("Folders the agent may change from the start"));
  folders_->setMaximumHeight(110);
  auto* folder_buttons = new QVBoxLayout;
  auto* add = new QPushButton(_("Add…"), folders_box);
  auto* remove = new QPushButton(_("Remove"), folders_box);
  folder_buttons->addWidget(add);
  folder_buttons->addWidget(remove);
  folder_buttons->addStretch(1);
  folders_layout->addWidget(folders_, 1);
  folders_layout->addLayout(folder_buttons);
  connect(add, &QPushButton::clicked, this, [this] {
    QString dir = QFileDialog::getExistingDirectory(this, _("Choose a folder the agent may change"), QDir::homePath());
    if (!dir.isEmpty()) folders_->addItem(dir);
  });
  connect(remove, &QPushButton::clicked, this, [this] { qDeleteAll(folders_->selectedItems()); });
  form->addRow(_("&Folders:"), folders_box);

  command_ = new QLineEdit(this);
  command_->setObjectName(QStringLiteral("command"));
  command_->setPlaceholderText(_("The profile's own command"));
  form->addRow(_("&Command:"), command_);
  terminal_ = new QComboBox(this);
  terminal_->setObjectName(QStringLiteral("terminal"));
  terminals_ = find_terminals();
  for (const Terminal& t : terminals_) terminal_->addItem(t.name, t.program);
  form->addRow(_("Ter&minal:"), terminal_);
  layout->addLayout(form);

  auto* buttons = new QDialogButtonBox(QDialogButtonBox::Cancel, this);
  QPushButton* start = buttons->addButton(_("&Start"), QDialogButtonBox::AcceptRole);
  start->setDefault(true);
  start->setEnabled(!terminals_.isEmpty());
  if (terminals_.isEmpty()) start->setToolTip(_("No terminal was found: install one, such as xterm"));
  connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
  connect(buttons, &QDialogButtonBox::accepted, this, [this] {
    if (launch()) accept();
  });
  layout->addWidget(buttons);
  resize(520, sizeHint().height());
}

QStringList NewSessionDialog::command_line() const {
  int index = terminal_->currentIndex();
  if (index < 0 || index >= terminals_.size()) return {};
  const Terminal& t = terminals_[index];
  QStringList argv{t.program};
  argv += t.run_prefix;
  argv << airlock_ << QStringLiteral("run");
  if (!profile_->currentText().trimmed().isEmpty()) argv << QStringLiteral("--profile") << profile_->currentText().trimmed();
  if (!task_->text().trimmed().isEmpty()) argv << QStringLiteral("--task") << task_->text().trimmed();
  for (int i = 0; i < folders_->count(); ++i) argv << QStringLiteral("--rw") << folders_->item(i)->text();
  QStringList command = split_command(command_->text());
  if (!command.isEmpty()) argv << QStringLiteral("--") << command;
  return argv;
}

bool NewSessionDialog::launch() {
  QStringList argv = command_line();
  if (argv.isEmpty()) return false;
  QString program = argv.takeFirst();
  if (!QProcess::startDetached(program, argv, QDir::homePath())) {
    QMessageBox::warning(this, _("Cannot start the session"), QString(_("%1 could not be started.")).arg(program));
    return false;
  }
  return true;
}

}  // namespace airlock::gui
