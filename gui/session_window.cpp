#include "session_window.h"

#include <algorithm>

#include <QAction>
#include <QEvent>
#include <QComboBox>
#include <QDateTime>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPainter>
#include <QPushButton>
#include <QSplitter>
#include <QStatusBar>
#include <QTabWidget>
#include <QTreeWidget>
#include <QVBoxLayout>

#include "always_grants_page.h"
#include "prompt_window.h"
#include "format.h"
#include "i18n.h"
#include "theme.h"

namespace airlock::gui {

namespace {

QTreeWidget* make_list(QWidget* parent, const char* name, const QStringList& headers, const QString& accessible) {
  auto* list = new QTreeWidget(parent);
  list->setObjectName(QLatin1String(name));
  list->setHeaderLabels(headers);
  list->setRootIsDecorated(false);
  list->setUniformRowHeights(true);
  list->setAlternatingRowColors(true);
  list->setAccessibleName(accessible);
  list->header()->setSectionsMovable(false);
  list->setTextElideMode(Qt::ElideMiddle);
  list->setFrameShape(QFrame::NoFrame);
  list->setIconSize(QSize(18, 18));
  return list;
}

QString text(const QVariantMap& row, const char* key) { return row.value(QLatin1String(key)).toString(); }

// How far back, and how many, ended sessions the list shows.
constexpr qint64 kRecentMs = 7LL * 24 * 3600 * 1000;
constexpr qsizetype kMaxRecent = 30;

QIcon dot(const QColor& colour) {
  QPixmap pixmap(QSize(12, 12) * 2);
  pixmap.setDevicePixelRatio(2);
  pixmap.fill(Qt::transparent);
  QPainter painter(&pixmap);
  painter.setRenderHint(QPainter::Antialiasing);
  painter.setPen(Qt::NoPen);
  painter.setBrush(colour);
  painter.drawEllipse(QRectF(2, 2, 8, 8));
  return QIcon(pixmap);
}

}  // namespace

SessionWindow::SessionWindow(ManagerClient* manager, QWidget* parent) : QMainWindow(parent), manager_(manager) {
  setObjectName(QStringLiteral("session-window"));
  setWindowTitle(_("Airlock"));
  setWindowIcon(app_icon());

  QAction* reload = new QAction(_("Refresh"), this);
  reload->setShortcut(QKeySequence::Refresh);
  connect(reload, &QAction::triggered, this, &SessionWindow::refresh);
  addAction(reload);

  auto* central = new QWidget(this);
  auto* central_layout = new QVBoxLayout(central);
  central_layout->setContentsMargins(18, 16, 18, 12);
  central_layout->setSpacing(12);
  auto* header = new QHBoxLayout;
  header->setSpacing(12);
  auto* logo = new QLabel(central);
  logo->setPixmap(app_icon().pixmap(40, 40));
  header->addWidget(logo);
  auto* titles = new QVBoxLayout;
  titles->setSpacing(0);
  auto* title = new QLabel(_("Agent Sessions"), central);
  title->setObjectName(QStringLiteral("window-title"));
  QFont title_font = title->font();
  title_font.setPointSizeF(title_font.pointSizeF() * 1.35);
  title_font.setWeight(QFont::DemiBold);
  title->setFont(title_font);
  auto* subtitle = new QLabel(_("What each agent may use, what it asks for, and what it did"), central);
  subtitle->setObjectName(QStringLiteral("window-subtitle"));
  titles->addWidget(title);
  titles->addWidget(subtitle);
  header->addLayout(titles, 1);
  auto* new_session = new QPushButton(_("New Session…"), central);
  new_session->setObjectName(QStringLiteral("new-session"));
  new_session->setShortcut(QKeySequence::New);
  new_session->setAccessibleName(_("Start a new agent session in a terminal"));
  connect(new_session, &QPushButton::clicked, this, &SessionWindow::new_session_requested);
  header->addWidget(new_session, 0, Qt::AlignVCenter);
  central_layout->addLayout(header);
  pages_ = new QTabWidget(central);
  central_layout->addWidget(pages_, 1);
  setCentralWidget(central);

  auto* sessions_page = new QWidget(pages_);
  auto* sessions_layout = new QVBoxLayout(sessions_page);
  sessions_layout->setContentsMargins(10, 10, 10, 10);
  auto* splitter = new QSplitter(Qt::Vertical, sessions_page);
  sessions_ = make_list(splitter, "sessions", {_("Profile"), _("Task"), _("Command"), _("Started"), _("State")},
                        _("Sessions"));
  sessions_->header()->setSectionResizeMode(1, QHeaderView::Stretch);
  sessions_->header()->setSectionResizeMode(2, QHeaderView::Stretch);
  sessions_->header()->setStretchLastSection(false);
  connect(sessions_, &QTreeWidget::itemSelectionChanged, this, &SessionWindow::refresh_details);

  details_ = new QTabWidget(splitter);
  auto* grants_page = new QWidget(details_);
  auto* grants_layout = new QVBoxLayout(grants_page);
  grants_layout->setContentsMargins(8, 8, 8, 8);
  grants_ = make_list(grants_page, "grants", {_("Kind"), _("Resource"), _("Access"), _("Scope"), _("Since"), _("Ends")},
                      _("Grants of the session"));
  grants_->header()->setSectionResizeMode(1, QHeaderView::Stretch);
  grants_->header()->setStretchLastSection(false);
  grants_layout->addWidget(grants_, 1);
  auto* grant_buttons = new QHBoxLayout;
  grant_buttons->addStretch(1);
  revoke_ = new QPushButton(_("Revoke"), grants_page);
  revoke_->setObjectName(QStringLiteral("revoke"));
  revoke_->setEnabled(false);
  revoke_->setAccessibleName(_("Revoke the selected grant now"));
  grant_buttons->addWidget(revoke_);
  grants_layout->addLayout(grant_buttons);
  connect(grants_, &QTreeWidget::itemSelectionChanged, this, [this] { revoke_->setEnabled(!grants_->selectedItems().isEmpty()); });
  connect(revoke_, &QPushButton::clicked, this, &SessionWindow::revoke_selected);
  details_->addTab(grants_page, _("Grants"));

  pending_ = make_list(details_, "pending", {_("Kind"), _("Resource"), _("Access"), _("The agent says"), _("Since")},
                       _("Requests waiting for an answer"));
  pending_->header()->setSectionResizeMode(1, QHeaderView::Stretch);
  pending_->header()->setStretchLastSection(false);
  details_->addTab(pending_, _("Waiting"));

  auto* audit_page = new QWidget(details_);
  auto* audit_layout = new QVBoxLayout(audit_page);
  audit_layout->setContentsMargins(8, 8, 8, 8);
  auto* filters = new QHBoxLayout;
  audit_search_ = new QLineEdit(audit_page);
  audit_search_->setObjectName(QStringLiteral("audit-search"));
  audit_search_->setPlaceholderText(_("Filter by resource"));
  audit_search_->setClearButtonEnabled(true);
  audit_search_->setAccessibleName(_("Filter the audit trail by resource"));
  audit_event_ = new QComboBox(audit_page);
  audit_event_->setObjectName(QStringLiteral("audit-event"));
  audit_event_->setAccessibleName(_("Filter the audit trail by event"));
  audit_event_->addItem(_("All events"), QString());
  audit_event_->addItem(_("Requests"), QStringLiteral("request"));
  audit_event_->addItem(_("Decisions"), QStringLiteral("decision"));
  audit_event_->addItem(_("Grants"), QStringLiteral("grant"));
  audit_event_->addItem(_("Revocations"), QStringLiteral("revoke"));
  audit_outcome_ = new QComboBox(audit_page);
  audit_outcome_->setObjectName(QStringLiteral("audit-outcome"));
  audit_outcome_->setAccessibleName(_("Filter the audit trail by outcome"));
  audit_outcome_->addItem(_("Any outcome"), QString());
  audit_outcome_->addItem(_("Allowed"), QStringLiteral("allow"));
  audit_outcome_->addItem(_("Denied"), QStringLiteral("deny"));
  filters->addWidget(audit_search_, 1);
  filters->addWidget(audit_event_);
  filters->addWidget(audit_outcome_);
  audit_layout->addLayout(filters);
  audit_ = make_list(audit_page, "audit",
                     {_("Time"), _("Event"), _("Kind"), _("Resource"), _("Access"), _("Scope"), _("Decided by"), _("Outcome")},
                     _("Audit trail of the session"));
  audit_->header()->setSectionResizeMode(3, QHeaderView::Stretch);
  audit_->header()->setStretchLastSection(false);
  audit_layout->addWidget(audit_, 1);
  connect(audit_search_, &QLineEdit::textChanged, this, &SessionWindow::apply_audit_filter);
  connect(audit_event_, &QComboBox::currentIndexChanged, this, &SessionWindow::apply_audit_filter);
  connect(audit_outcome_, &QComboBox::currentIndexChanged, this, &SessionWindow::apply_audit_filter);
  details_->addTab(audit_page, _("Audit Trail"));

  splitter->setStretchFactor(0, 2);
  splitter->setStretchFactor(1, 3);
  sessions_layout->addWidget(splitter);
  empty_ = new QLabel(_("No agent is running. Start one with “New Session…” or with airlock run in a terminal."),
                      sessions_page);
  empty_->setObjectName(QStringLiteral("empty"));
  empty_->setWordWrap(true);
  empty_->setAlignment(Qt::AlignCenter);
  sessions_layout->addWidget(empty_);
  pages_->addTab(sessions_page, _("Sessions"));

  always_ = new AlwaysGrantsPage(manager_, pages_);
  pages_->addTab(always_, _("Always Allowed"));

  connect(manager_, &ManagerClient::sessions_changed, this, &SessionWindow::refresh_sessions);
  connect(manager_, &ManagerClient::grants_changed, this, [this](const QString& session) {
    if (session == selected_session()) refresh_details();
    always_->refresh();
  });
  connect(manager_, &ManagerClient::requests_changed, this, &SessionWindow::refresh_details);
  resize(980, 640);
  apply_style();
}

void SessionWindow::apply_style() {
  const QPalette& p = palette();
  QColor secondary = p.color(QPalette::WindowText);
  secondary.setAlphaF(0.68);
  setStyleSheet(QStringLiteral("QLabel#window-subtitle, QLabel#empty { color: %1; }"
                               "QTreeView::item { padding: 4px 2px; }"
                               "QHeaderView::section { padding: 4px 6px; }")
                    .arg(secondary.name(QColor::HexArgb)));
}

void SessionWindow::changeEvent(QEvent* event) {
  if (event->type() == QEvent::PaletteChange && !styling_) {
    styling_ = true;
    apply_style();
    styling_ = false;
  }
  QMainWindow::changeEvent(event);
}

void SessionWindow::refresh() {
  refresh_sessions();
  always_->refresh();
}

void SessionWindow::refresh_sessions() {
  QString keep = selected_session();
  QString error;
  Rows running = manager_->list_sessions(&error);
  if (!error.isEmpty()) statusBar()->showMessage(QString(_("Cannot reach the portal: %1")).arg(error));
  else statusBar()->clearMessage();
  QSet<QString> now;
  for (const auto& row : running) now.insert(text(row, "id"));
  // What was running and is no more stays listed, as ended.
  for (int i = 0; i < sessions_->topLevelItemCount(); ++i) {
    QTreeWidgetItem* item = sessions_->topLevelItem(i);
    QString id = item->data(0, Qt::UserRole).toString();
    if (!now.contains(id) && !ended_.contains(id)) ended_.insert(id, item->data(1, Qt::UserRole).toMap());
  }
  sessions_->clear();
  auto add = [this](const QVariantMap& row, bool is_running) {
    auto* item = new QTreeWidgetItem(sessions_);
    item->setText(0, text(row, "profile"));
    item->setText(1, text(row, "task"));
    item->setText(2, text(row, "command"));
    item->setText(3, format_time(row.value(QStringLiteral("started")).toLongLong()));
    QString state = is_running ? _("Running") : _("Ended");
    uint pending = row.value(QStringLiteral("pending")).toUInt();
    if (is_running && pending > 0) state = n_("Waiting for %1 answer", "Waiting for %1 answers", pending).arg(pending);
    if (row.value(QStringLiteral("flagged")).toBool()) state += QStringLiteral(" · ") + _("throttled");
    item->setText(4, state);
    item->setIcon(0, QIcon(profile_badge(text(row, "profile"), 18, devicePixelRatioF())));
    item->setIcon(4, dot(!is_running ? QColor(0x9a, 0x99, 0x96) : pending > 0 ? QColor(0xe5, 0xa5, 0x0a) : QColor(0x2e, 0xc2, 0x7e)));
    item->setData(0, Qt::UserRole, text(row, "id"));
    item->setData(1, Qt::UserRole, row);
    item->setToolTip(1, text(row, "task"));
    item->setToolTip(2, text(row, "command"));
    if (!is_running)
      for (int column = 0; column < sessions_->columnCount(); ++column)
        item->setForeground(column, sessions_->palette().brush(QPalette::Disabled, QPalette::Text));
  };
  for (const auto& row : running) add(row, true);
  // Recent sessions: those of the last week's audit trail that run no more.
  QVariantMap filter;
  filter.insert(QStringLiteral("since"),
                QVariant::fromValue(static_cast<qlonglong>(QDateTime::currentMSecsSinceEpoch() - kRecentMs) * 1000));
  filter.insert(QStringLiteral("limit"), QVariant::fromValue(5000u));
  QList<QVariantMap> recent;
  for (const QVariantMap& row : manager_->audit_log(filter)) {
    QString id = text(row, "session");
    if (text(row, "event") != QLatin1String("session-start") || now.contains(id) || ended_.contains(id)) continue;
    QVariantMap session;
    session.insert(QStringLiteral("id"), id);
    session.insert(QStringLiteral("profile"), row.value(QStringLiteral("profile")));
    session.insert(QStringLiteral("task"), row.value(QStringLiteral("task")));
    session.insert(QStringLiteral("started"), row.value(QStringLiteral("time")));
    recent.prepend(session);  // newest first
  }
  for (auto it = ended_.begin(); it != ended_.end(); ++it) recent.prepend(it.value());
  std::sort(recent.begin(), recent.end(), [](const QVariantMap& a, const QVariantMap& b) {
    return a.value(QStringLiteral("started")).toLongLong() > b.value(QStringLiteral("started")).toLongLong();
  });
  QSet<QString> shown = now;
  for (const QVariantMap& row : recent) {
    if (shown.size() >= static_cast<qsizetype>(now.size()) + kMaxRecent) break;
    if (shown.contains(text(row, "id"))) continue;
    shown.insert(text(row, "id"));
    add(row, false);
  }
  for (int column : {0, 3, 4}) sessions_->resizeColumnToContents(column);
  empty_->setVisible(sessions_->topLevelItemCount() == 0);
  if (!keep.isEmpty()) select_session(keep);
  if (selected_session().isEmpty() && sessions_->topLevelItemCount() > 0)
    sessions_->setCurrentItem(sessions_->topLevelItem(0));
  refresh_details();
}

bool SessionWindow::select_session(const QString& id) {
  for (int i = 0; i < sessions_->topLevelItemCount(); ++i) {
    QTreeWidgetItem* item = sessions_->topLevelItem(i);
    if (item->data(0, Qt::UserRole).toString() == id) {
      sessions_->setCurrentItem(item);
      return true;
    }
  }
  return false;
}

QString SessionWindow::selected_session() const {
  QTreeWidgetItem* item = sessions_->currentItem();
  return item ? item->data(0, Qt::UserRole).toString() : QString();
}

void SessionWindow::refresh_details() {
  QString session = selected_session();
  grants_->clear();
  pending_->clear();
  audit_->clear();
  revoke_->setEnabled(false);
  if (session.isEmpty()) return;
  for (const QVariantMap& grant : manager_->list_grants(session)) {
    auto* item = new QTreeWidgetItem(grants_);
    item->setText(0, kind_name(text(grant, "kind")));
    item->setText(1, text(grant, "resource"));
    item->setText(2, access_name(text(grant, "access")));
    item->setText(3, scope_name(text(grant, "scope")));
    item->setText(4, format_time(grant.value(QStringLiteral("since")).toLongLong()));
    item->setText(5, expiry_text(grant));
    item->setToolTip(1, text(grant, "resource"));
    item->setData(0, Qt::UserRole, text(grant, "id"));
  }
  for (const QVariantMap& request : manager_->list_pending()) {
    if (text(request, "session") != session) continue;
    auto* item = new QTreeWidgetItem(pending_);
    item->setText(0, kind_name(text(request, "kind")));
    item->setText(1, text(request, "resource"));
    item->setText(2, access_name(text(request, "access")));
    item->setText(3, text(request, "reason"));
    item->setText(4, format_time(request.value(QStringLiteral("since")).toLongLong()));
  }
  details_->setTabText(1, pending_->topLevelItemCount() > 0
                              ? QString(_("Waiting (%1)")).arg(QLocale().toString(pending_->topLevelItemCount()))
                              : _("Waiting"));
  QVariantMap filter;
  filter.insert(QStringLiteral("session"), session);
  for (const QVariantMap& row : manager_->audit_log(filter)) {
    auto* item = new QTreeWidgetItem(audit_);
    item->setText(0, format_time(row.value(QStringLiteral("time")).toLongLong()));
    item->setText(1, text(row, "event"));
    item->setText(2, kind_name(text(row, "kind")));
    item->setText(3, text(row, "resource"));
    item->setText(4, access_name(text(row, "access")));
    item->setText(5, scope_name(text(row, "scope")));
    item->setText(6, text(row, "decided-by"));
    item->setText(7, text(row, "outcome"));
    item->setData(1, Qt::UserRole, text(row, "event"));
    item->setData(7, Qt::UserRole, text(row, "outcome"));
    item->setToolTip(3, text(row, "rule"));
  }
  for (QTreeWidget* list : {grants_, pending_, audit_})
    for (int column = 0; column < list->columnCount(); ++column)
      if (!(list->header()->sectionResizeMode(column) == QHeaderView::Stretch)) list->resizeColumnToContents(column);
  apply_audit_filter();
}

void SessionWindow::apply_audit_filter() {
  QString search = audit_search_->text().trimmed();
  QString event = audit_event_->currentData().toString();
  QString outcome = audit_outcome_->currentData().toString();
  for (int i = 0; i < audit_->topLevelItemCount(); ++i) {
    QTreeWidgetItem* item = audit_->topLevelItem(i);
    bool shown = (search.isEmpty() || item->text(3).contains(search, Qt::CaseInsensitive)) &&
                 (event.isEmpty() || item->data(1, Qt::UserRole).toString() == event) &&
                 (outcome.isEmpty() || item->data(7, Qt::UserRole).toString() == outcome);
    item->setHidden(!shown);
  }
}

void SessionWindow::revoke_selected() {
  auto items = grants_->selectedItems();
  if (items.isEmpty()) return;
  QString error;
  if (!manager_->revoke(selected_session(), items.first()->data(0, Qt::UserRole).toString(), &error))
    show_error(_("Cannot revoke the grant"), error);
  refresh_details();
}

void SessionWindow::show_error(const QString& what, const QString& error) {
  QMessageBox::warning(this, what, error);
}

}  // namespace airlock::gui
