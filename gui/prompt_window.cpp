#include "prompt_window.h"

#include <QApplication>
#include <QCheckBox>
#include <QCloseEvent>
#include <QComboBox>
#include <QDesktopServices>
#include <QFileDialog>
#include <QFileInfo>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QPainter>
#include <QPushButton>
#include <QResizeEvent>
#include <QStyle>
#include <QUrl>
#include <QVBoxLayout>

#include "i18n.h"
#include "theme.h"

namespace airlock::gui {

namespace {

QLabel* plain_label(QWidget* parent, const char* object_name) {
  auto* label = new QLabel(parent);
  label->setObjectName(QLatin1String(object_name));
  // What the agent or the portal sent is never interpreted as markup.
  label->setTextFormat(Qt::PlainText);
  label->setWordWrap(true);
  return label;
}

// The title: who wants what, as one sentence to translate.
QString title_text(const PromptRequest& r) {
  QString who = r.profile.isEmpty() ? _("An agent") : r.profile;
  bool write = r.access == QLatin1String("write");
  if (r.kind == QLatin1String("folder"))
    return (write ? _("%1 wants to change a folder") : _("%1 wants to read a folder")).arg(who);
  if (r.kind == QLatin1String("file"))
    return (write ? _("%1 wants to change a file") : _("%1 wants to read a file")).arg(who);
  if (r.kind == QLatin1String("host")) return _("%1 wants to connect to a host").arg(who);
  if (r.kind == QLatin1String("secret")) return _("%1 wants a secret").arg(who);
  return _("%1 asks for access").arg(who);
}

QString access_phrase(const PromptRequest& r) {
  if (r.kind == QLatin1String("host")) return _("Network connection");
  if (r.kind == QLatin1String("secret") && !r.host.isEmpty())
    return _("Sent by Airlock to %1 in the %2 header; the agent gets a placeholder, never the value")
        .arg(r.host, r.header);
  if (r.kind == QLatin1String("secret")) return _("Read the secret's value");
  return r.access == QLatin1String("write") ? _("Read and write") : _("Read only");
}

QIcon kind_icon(const PromptRequest& r, const QStyle* style) {
  if (r.kind == QLatin1String("folder")) return QIcon::fromTheme(QStringLiteral("folder"), style->standardIcon(QStyle::SP_DirIcon));
  if (r.kind == QLatin1String("file"))
    return QIcon::fromTheme(QStringLiteral("text-x-generic"), style->standardIcon(QStyle::SP_FileIcon));
  if (r.kind == QLatin1String("host"))
    return QIcon::fromTheme(QStringLiteral("network-server"), style->standardIcon(QStyle::SP_DriveNetIcon));
  return QIcon::fromTheme(QStringLiteral("dialog-password"), style->standardIcon(QStyle::SP_MessageBoxQuestion));
}

}  // namespace

QPixmap profile_badge(const QString& profile, int size, qreal device_pixel_ratio) {
  QPixmap pixmap(QSize(size, size) * device_pixel_ratio);
  pixmap.setDevicePixelRatio(device_pixel_ratio);
  pixmap.fill(Qt::transparent);
  QPainter painter(&pixmap);
  painter.setRenderHint(QPainter::Antialiasing);
  // Calm, distinct hues at one lightness, chosen by the name.
  QColor colour = QColor::fromHsl(static_cast<int>(qHash(profile) % 360u), 110, 120);
  painter.setBrush(colour);
  painter.setPen(Qt::NoPen);
  painter.drawEllipse(QRectF(0, 0, size, size));
  QFont font = painter.font();
  font.setPixelSize(size / 2);
  font.setBold(true);
  painter.setFont(font);
  painter.setPen(Qt::white);
  QString initial = profile.isEmpty() ? QStringLiteral("?") : profile.left(1).toUpper();
  painter.drawText(QRectF(0, 0, size, size), Qt::AlignCenter, initial);
  return pixmap;
}

PromptWindow::PromptWindow(QWidget* parent) : QWidget(parent, Qt::Window | Qt::WindowStaysOnTopHint) {
  setObjectName(QStringLiteral("prompt-window"));
  setWindowTitle(_("An agent asks for access"));
  setWindowIcon(app_icon());
  setAttribute(Qt::WA_DeleteOnClose, false);
  choose_folder = [](QWidget* owner, const QString& start) {
    return QFileDialog::getExistingDirectory(owner, _("Choose a folder to grant instead"), start);
  };
  build();
}

void PromptWindow::build() {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(24, 22, 24, 20);
  layout->setSpacing(14);

  auto* header = new QHBoxLayout;
  header->setSpacing(14);
  icon_ = new QLabel(this);
  icon_->setFixedSize(48, 48);
  header->addWidget(icon_, 0, Qt::AlignTop);
  auto* titles = new QVBoxLayout;
  titles->setSpacing(2);
  title_ = plain_label(this, "title");
  QFont title_font = title_->font();
  title_font.setPointSizeF(title_font.pointSizeF() * 1.3);
  title_font.setWeight(QFont::DemiBold);
  title_->setFont(title_font);
  subtitle_ = plain_label(this, "subtitle");
  titles->addWidget(title_);
  titles->addWidget(subtitle_);
  header->addLayout(titles, 1);
  position_ = plain_label(this, "position");
  position_->setWordWrap(false);
  header->addWidget(position_, 0, Qt::AlignTop);
  layout->addLayout(header);

  card_ = new QFrame(this);
  card_->setObjectName(QStringLiteral("card"));
  auto* card_layout = new QGridLayout(card_);
  card_layout->setContentsMargins(14, 12, 14, 12);
  card_layout->setHorizontalSpacing(12);
  card_layout->setVerticalSpacing(6);
  kind_icon_ = new QLabel(card_);
  kind_icon_->setFixedSize(24, 24);
  card_layout->addWidget(kind_icon_, 0, 0, Qt::AlignTop);
  resource_ = plain_label(card_, "resource");
  resource_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
  resource_->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
  resource_->setFocusPolicy(Qt::StrongFocus);
  card_layout->addWidget(resource_, 0, 1, 1, 2);
  access_ = plain_label(card_, "access");
  card_layout->addWidget(access_, 1, 1);
  show_in_files_ = new QPushButton(_("Show in File Manager"), card_);
  show_in_files_->setObjectName(QStringLiteral("show-in-files"));
  show_in_files_->setAutoDefault(false);
  show_in_files_->setFlat(true);
  connect(show_in_files_, &QPushButton::clicked, this, [this] {
    if (!current()) return;
    QFileInfo info(current()->resource);
    QString folder = current()->kind == QLatin1String("folder") ? info.absoluteFilePath() : info.absolutePath();
    QDesktopServices::openUrl(QUrl::fromLocalFile(folder));
  });
  card_layout->addWidget(show_in_files_, 1, 2, Qt::AlignRight);
  card_layout->setColumnStretch(1, 1);
  layout->addWidget(card_);

  danger_ = new QFrame(this);
  danger_->setObjectName(QStringLiteral("danger"));
  auto* danger_layout = new QHBoxLayout(danger_);
  danger_layout->setContentsMargins(12, 8, 12, 8);
  auto* danger_icon = new QLabel(danger_);
  danger_icon->setPixmap(style()->standardIcon(QStyle::SP_MessageBoxWarning).pixmap(20, 20));
  danger_layout->addWidget(danger_icon, 0, Qt::AlignTop);
  danger_text_ = plain_label(danger_, "danger-text");
  danger_text_->setText(_("The policy never shares this without asking: it may hold keys, passwords or "
                          "other secrets. Allow it only if you know why the agent needs it."));
  danger_layout->addWidget(danger_text_, 1);
  layout->addWidget(danger_);

  reason_caption_ = plain_label(this, "reason-caption");
  reason_caption_->setText(_("The agent says (its own words, not verified):"));
  layout->addWidget(reason_caption_);
  // The agent's words sit apart, behind a bar, in italics: a quotation,
  // never the window's own voice.
  quote_ = new QFrame(this);
  quote_->setObjectName(QStringLiteral("quote"));
  auto* quote_layout = new QHBoxLayout(quote_);
  quote_layout->setContentsMargins(12, 6, 10, 6);
  reason_ = plain_label(quote_, "reason");
  reason_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  QFont reason_font = reason_->font();
  reason_font.setItalic(true);
  reason_->setFont(reason_font);
  quote_layout->addWidget(reason_);
  layout->addWidget(quote_);

  auto* narrower_row = new QHBoxLayout;
  choose_ = new QPushButton(_("Choose Another Folder…"), this);
  choose_->setObjectName(QStringLiteral("choose-path"));
  choose_->setAutoDefault(false);
  connect(choose_, &QPushButton::clicked, this, &PromptWindow::choose_narrower);
  narrower_row->addWidget(choose_);
  narrower_label_ = plain_label(this, "narrower");
  narrower_row->addWidget(narrower_label_, 1);
  narrower_row->addStretch(0);
  layout->addLayout(narrower_row);

  secret_row_ = new QWidget(this);
  auto* secret_layout = new QHBoxLayout(secret_row_);
  secret_layout->setContentsMargins(0, 0, 0, 0);
  auto* ttl_label = new QLabel(_("Allow for:"), secret_row_);
  ttl_label->setTextFormat(Qt::PlainText);
  ttl_ = new QComboBox(secret_row_);
  ttl_->setObjectName(QStringLiteral("ttl"));
  ttl_->addItem(_("5 minutes"), 300u);
  ttl_->addItem(_("1 hour"), 3600u);
  ttl_->addItem(_("Until the task ends"), 0u);
  ttl_label->setBuddy(ttl_);
  ttl_->setAccessibleName(_("How long the agent may use the secret"));
  remember_ = new QCheckBox(_("Remember for this profile"), secret_row_);
  remember_->setObjectName(QStringLiteral("remember"));
  secret_layout->addWidget(ttl_label);
  secret_layout->addWidget(ttl_);
  secret_layout->addSpacing(12);
  secret_layout->addWidget(remember_);
  secret_layout->addStretch(1);
  layout->addWidget(secret_row_);

  confirm_ = new QFrame(this);
  confirm_->setObjectName(QStringLiteral("confirm"));
  auto* confirm_layout = new QVBoxLayout(confirm_);
  confirm_layout->setContentsMargins(12, 10, 12, 10);
  confirm_text_ = plain_label(confirm_, "confirm-text");
  confirm_layout->addWidget(confirm_text_);
  auto* confirm_buttons = new QHBoxLayout;
  confirm_buttons->addStretch(1);
  cancel_always_ = new QPushButton(_("Cancel"), confirm_);
  cancel_always_->setObjectName(QStringLiteral("cancel-always"));
  confirm_always_ = new QPushButton(_("Yes, Always Allow"), confirm_);
  confirm_always_->setObjectName(QStringLiteral("confirm-always"));
  confirm_buttons->addWidget(cancel_always_);
  confirm_buttons->addWidget(confirm_always_);
  confirm_layout->addLayout(confirm_buttons);
  connect(cancel_always_, &QPushButton::clicked, this, [this] {
    confirm_->hide();
    deny_->setFocus();
  });
  connect(confirm_always_, &QPushButton::clicked, this, [this] { allow(QStringLiteral("always")); });
  layout->addWidget(confirm_);

  layout->addStretch(1);
  auto* buttons = new QHBoxLayout;
  buttons->setSpacing(8);
  always_ = new QPushButton(_("Always…"), this);
  always_->setObjectName(QStringLiteral("always"));
  always_->setToolTip(_("Allow this for every future session of this profile (asks you to confirm)"));
  connect(always_, &QPushButton::clicked, this, &PromptWindow::ask_always);
  buttons->addWidget(always_);
  buttons->addStretch(1);
  deny_ = new QPushButton(_("Deny"), this);
  deny_->setObjectName(QStringLiteral("deny"));
  connect(deny_, &QPushButton::clicked, this, &PromptWindow::deny);
  allow_task_ = new QPushButton(_("Allow for This Task"), this);
  allow_task_->setObjectName(QStringLiteral("allow-task"));
  connect(allow_task_, &QPushButton::clicked, this, [this] {
    if (current() && current()->kind == QLatin1String("secret") && remember_->isChecked() && current()->offers(QStringLiteral("always")))
      return ask_always();
    allow(QStringLiteral("task"));
  });
  allow_once_ = new QPushButton(_("Allow Once"), this);
  allow_once_->setObjectName(QStringLiteral("allow-once"));
  connect(allow_once_, &QPushButton::clicked, this, [this] { allow(QStringLiteral("once")); });
  buttons->addWidget(deny_);
  buttons->addWidget(allow_task_);
  buttons->addWidget(allow_once_);
  layout->addLayout(buttons);

  for (QPushButton* button : {always_, allow_task_, allow_once_, cancel_always_, confirm_always_}) button->setAutoDefault(false);
  for (QPushButton* button : {always_, deny_, allow_task_, allow_once_, cancel_always_, confirm_always_, choose_}) {
    button->setMinimumHeight(32);
    button->setMinimumWidth(88);
  }
  // Enter and a careless click on the default do the safe thing.
  deny_->setAutoDefault(true);
  deny_->setDefault(true);

  setTabOrder(deny_, allow_task_);
  setTabOrder(allow_task_, allow_once_);
  setTabOrder(allow_once_, always_);

  deny_->setAccessibleName(_("Deny the request"));
  allow_once_->setAccessibleName(_("Allow this one request"));
  allow_task_->setAccessibleName(_("Allow until this task ends"));
  always_->setAccessibleName(_("Always allow, after a confirmation"));
  choose_->setAccessibleName(_("Choose a narrower folder to grant instead"));
  show_in_files_->setAccessibleName(_("Show the requested path in the file manager"));
  apply_style();
  setMinimumWidth(460);
  resize(580, sizeHint().height());
}

void PromptWindow::apply_style() {
  // Colours from the palette, so that light and dark themes both read well.
  const QPalette& p = palette();
  bool dark = p.color(QPalette::Window).lightness() < 128;
  QColor warning_bg = dark ? QColor(0x5c, 0x3b, 0x12) : QColor(0xfd, 0xf0, 0xd5);
  QColor warning_border = dark ? QColor(0xb8, 0x7a, 0x1e) : QColor(0xe0, 0xa8, 0x3a);
  QColor confirm_bg = dark ? QColor(0x1f, 0x3a, 0x5c) : QColor(0xe3, 0xee, 0xfb);
  QColor card_bg = dark ? p.color(QPalette::Base).lighter(115) : p.color(QPalette::Base);
  QColor border = dark ? p.color(QPalette::Window).lighter(160) : p.color(QPalette::Window).darker(118);
  QColor secondary = p.color(QPalette::WindowText);
  secondary.setAlphaF(0.68);
  setStyleSheet(QStringLiteral(
                    "QFrame#card { background: %1; border: 1px solid %2; border-radius: 8px; }"
                    "QFrame#danger { background: %3; border: 1px solid %4; border-radius: 6px; }"
                    "QFrame#confirm { background: %5; border: 1px solid %2; border-radius: 6px; }"
                    "QLabel#subtitle, QLabel#access, QLabel#reason-caption, QLabel#position, QLabel#narrower { color: %6; }"
                    "QFrame#quote { border: none; border-left: 3px solid %7; background: %8; }"
                    "QLabel#position { border: 1px solid %2; border-radius: 9px; padding: 1px 8px; }")
                    .arg(card_bg.name(), border.name(), warning_bg.name(), warning_border.name(), confirm_bg.name(),
                         secondary.name(QColor::HexArgb), p.color(QPalette::Highlight).name(),
                         (dark ? p.color(QPalette::Window).lighter(125) : p.color(QPalette::Window).darker(104)).name()));
}

void PromptWindow::changeEvent(QEvent* event) {
  if (event->type() == QEvent::PaletteChange) {
    // setStyleSheet itself changes the palette: only react to real changes.
    static bool applying = false;
    if (!applying) {
      applying = true;
      apply_style();
      applying = false;
    }
  }
  QWidget::changeEvent(event);
}

void PromptWindow::add(const PromptRequest& request) {
  queue_.append(request);
  if (queue_.size() == 1) show_current();
  else position_->setText(QString(_("%1 of %2")).arg(1).arg(queue_.size()));
  position_->setVisible(queue_.size() > 1);
  Q_EMIT queue_changed(static_cast<int>(queue_.size()));
  if (!isVisible()) show();
  raise();
  activateWindow();
}

void PromptWindow::remove(const QString& id) {
  for (qsizetype i = 0; i < queue_.size(); ++i) {
    if (queue_[i].id != id) continue;
    queue_.removeAt(i);
    if (i == 0) show_current();
    else position_->setText(QString(_("%1 of %2")).arg(1).arg(queue_.size()));
    position_->setVisible(queue_.size() > 1);
    Q_EMIT queue_changed(static_cast<int>(queue_.size()));
    return;
  }
}

void PromptWindow::show_current() {
  narrower_.clear();
  confirm_->hide();
  if (queue_.isEmpty()) {
    hide();
    return;
  }
  const PromptRequest& r = queue_.first();
  title_->setText(title_text(r));
  QStringList context;
  if (!r.task.isEmpty()) context << QString(_("Task “%1”")).arg(r.task);
  context << QString(_("Session %1")).arg(r.session);
  subtitle_->setText(context.join(QStringLiteral("  ·  ")));
  icon_->setPixmap(profile_badge(r.profile, 48, devicePixelRatioF()));
  icon_->setAccessibleName(QString(_("Profile %1")).arg(r.profile));
  kind_icon_->setPixmap(kind_icon(r, style()).pixmap(24, 24));
  resource_->setText(r.resource);
  resource_->setAccessibleName(_("Requested resource"));
  resource_->setAccessibleDescription(r.resource);
  access_->setText(access_phrase(r));
  show_in_files_->setVisible(r.is_path());
  danger_->setVisible(r.dangerous);
  bool has_reason = !r.reason.trimmed().isEmpty();
  reason_caption_->setVisible(has_reason);
  quote_->setVisible(has_reason);
  reason_->setText(QStringLiteral("“%1”").arg(r.reason));
  reason_->setAccessibleName(_("The agent's reason, in its own words"));
  choose_->setVisible(r.kind == QLatin1String("folder"));
  narrower_label_->setVisible(false);
  narrower_label_->clear();
  bool secret = r.kind == QLatin1String("secret");
  secret_row_->setVisible(secret);
  ttl_->setCurrentIndex(0);
  remember_->setChecked(false);
  remember_->setVisible(secret && r.offers(QStringLiteral("always")));
  always_->setVisible(!secret && r.offers(QStringLiteral("always")));
  allow_once_->setVisible(r.offers(QStringLiteral("once")) || r.scopes.isEmpty());
  allow_task_->setVisible(r.offers(QStringLiteral("task")));
  allow_task_->setText(secret ? _("Allow") : _("Allow for This Task"));
  position_->setText(QString(_("%1 of %2")).arg(1).arg(queue_.size()));
  position_->setVisible(queue_.size() > 1);
  deny_->setFocus();
  fit_height();
}

void PromptWindow::fit_height() {
  // As tall as the wrapped text needs at this width: no gap, no clipping.
  int width = isVisible() ? this->width() : qMax(minimumWidth(), 580);
  resize(width, layout()->totalHeightForWidth(width));
}

void PromptWindow::resizeEvent(QResizeEvent* event) {
  QWidget::resizeEvent(event);
  int wanted = layout()->totalHeightForWidth(width());
  if (event->oldSize().width() != width() && height() < wanted) resize(width(), wanted);
}

void PromptWindow::finish(const PromptAnswer& answer) {
  if (queue_.isEmpty()) return;
  PromptRequest answered_request = queue_.takeFirst();
  show_current();
  Q_EMIT queue_changed(static_cast<int>(queue_.size()));
  Q_EMIT answered(answered_request.id, answer);
}

void PromptWindow::allow(const QString& scope) {
  const PromptRequest* r = current();
  if (!r) return;
  if (!r->scopes.isEmpty() && !r->offers(scope)) return;
  PromptAnswer answer;
  answer.response = Response::kAllow;
  answer.scope = scope;
  answer.path = narrower_;
  if (r->kind == QLatin1String("secret")) {
    answer.has_ttl = true;
    answer.ttl = scope == QLatin1String("once") ? 0u : ttl_->currentData().toUInt();
  }
  finish(answer);
}

void PromptWindow::deny() {
  PromptAnswer answer;
  answer.response = Response::kDeny;
  finish(answer);
}

void PromptWindow::ask_always() {
  const PromptRequest* r = current();
  if (!r || !r->offers(QStringLiteral("always"))) return;
  QString what = narrower_.isEmpty() ? r->resource : narrower_;
  confirm_text_->setText(QString(_("Allow this in every future session of “%1”, without asking?\n%2\nYou can take it "
                                   "back on the “Always Allowed” page."))
                             .arg(r->profile, what));
  confirm_->show();
  fit_height();
  cancel_always_->setFocus();
}

void PromptWindow::choose_narrower() {
  const PromptRequest* r = current();
  if (!r || r->kind != QLatin1String("folder")) return;
  QString chosen = choose_folder(this, narrower_.isEmpty() ? r->resource : narrower_);
  if (chosen.isEmpty()) return;
  QString canonical = QFileInfo(chosen).canonicalFilePath();
  if (canonical.isEmpty()) canonical = chosen;
  narrower_label_->setVisible(true);
  if (!path_is_within(canonical, r->resource)) {
    narrower_.clear();
    narrower_label_->setText(QString(_("%1 is not inside the requested folder: choose it or a folder within it."))
                                 .arg(canonical));
    return;
  }
  narrower_ = canonical == r->resource ? QString() : canonical;
  narrower_label_->setText(narrower_.isEmpty() ? QString() : QString(_("Grants only %1")).arg(narrower_));
  fit_height();
  // A narrower path is for this task at most: "always" remembers what was asked.
  always_->setVisible(narrower_.isEmpty() && r->offers(QStringLiteral("always")));
  confirm_->hide();
  deny_->setFocus();
}

void PromptWindow::keyPressEvent(QKeyEvent* event) {
  if (event->key() == Qt::Key_Escape) {
    if (confirm_->isVisible()) {
      confirm_->hide();
      deny_->setFocus();
    } else {
      deny();
    }
    event->accept();
    return;
  }
  QWidget::keyPressEvent(event);
}

void PromptWindow::closeEvent(QCloseEvent* event) {
  // Closing the window answers everything in it: no.
  while (!queue_.isEmpty()) deny();
  event->accept();
}

}  // namespace airlock::gui
