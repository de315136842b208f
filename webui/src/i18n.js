// Every string the console shows lives here. English is complete; zh-CN
// covers the main pages and falls back to English key by key. Messages may
// contain {name} placeholders.

const en = {
  'common.loading': 'Loading…', 'common.empty': 'Nothing here yet.', 'common.notFound': 'Page not found', 'common.close': 'Close',
  'common.cancel': 'Cancel', 'common.confirm': 'Confirm', 'common.create': 'Create', 'common.delete': 'Delete', 'common.save': 'Save',
  'common.name': 'Name', 'common.description': 'Description', 'common.status': 'Status', 'common.age': 'Age', 'common.reason': 'Reason',
  'common.message': 'Message', 'common.details': 'Details', 'common.yes': 'yes', 'common.no': 'no', 'common.copy': 'copy', 'common.copied': 'copied',

  'time.seconds': '{n}s', 'time.minutes': '{n}m', 'time.hours': '{n}h', 'time.days': '{n}d',

  'nav.main': 'Main navigation', 'nav.overview': 'Overview', 'nav.projects': 'Workspaces & projects', 'nav.project': 'Project',
  'nav.workloads': 'Workloads', 'nav.pods': 'Pods', 'nav.services': 'Services', 'nav.ingresses': 'Ingresses', 'nav.configmaps': 'Config maps',
  'nav.secrets': 'Secrets', 'nav.volumes': 'Volume claims', 'nav.events': 'Events', 'nav.members': 'Members & settings', 'nav.cluster': 'Cluster',
  'nav.nodes': 'Nodes', 'nav.storage': 'Storage classes', 'nav.namespaces': 'Namespaces', 'nav.images': 'Images', 'nav.bundles': 'Bundles',
  'nav.alerts': 'Alerts', 'nav.administration': 'Administration', 'nav.users': 'Users', 'nav.audit': 'Audit log', 'nav.logout': 'Log out',
  'nav.language': 'Language',

  'login.title': 'Log in to the console', 'login.username': 'User name', 'login.password': 'Password', 'login.submit': 'Log in',
  'login.sso': 'Log in with {name}', 'login.ssoFailed': 'Single sign-on did not complete; try again.',
  'login.ssoNameTaken': 'A local account already uses your single sign-on name; ask the administrator.',
  'login.ssoBadUsername': 'Your single sign-on name cannot be used here; ask the administrator.',
  'login.ssoUnavailable': 'The single sign-on provider cannot be reached; try again later or use a local account.',

  'password.title': 'Change password', 'password.mustChange': 'Choose your own password before you continue.',
  'password.current': 'Current password', 'password.new': 'New password', 'password.repeat': 'Repeat new password',
  'password.hint': 'At least 10 characters.', 'password.submit': 'Change password', 'password.mismatch': 'The new passwords do not match.',
  'password.changed': 'Your password was changed; other sessions were logged out.',

  'overview.title': 'Overview', 'overview.nodes': 'Nodes', 'overview.ready': 'ready', 'overview.pods': 'Pods', 'overview.running': 'running',
  'overview.workloads': 'Workloads', 'overview.alerts': 'Alerts', 'overview.firing': 'firing', 'overview.registry': 'Registry',
  'overview.registryNote': '{repos} repositories, {tags} tags', 'overview.unavailable': 'not available', 'overview.usage': 'Cluster usage',
  'overview.cpu': 'CPU', 'overview.memory': 'Memory', 'overview.disk': 'Disk', 'overview.versions': 'Versions',
  'overview.monitoringOff': 'Monitoring is turned off on this appliance.',
  'overview.clusterUnavailable': 'The cluster is not available yet; this page fills in once it is.',

  'chart.range': 'Time range', 'chart.noData': 'No data for this range yet.',

  'nodes.title': 'Nodes', 'nodes.name': 'Node', 'nodes.roles': 'Roles', 'nodes.ip': 'Address', 'nodes.cpu': 'CPU', 'nodes.memory': 'Memory',
  'nodes.pods': 'Pods', 'nodes.version': 'Kubelet', 'nodes.os': 'Operating system', 'nodes.kernel': 'Kernel', 'nodes.runtime': 'Container runtime',
  'nodes.condition': 'Condition',

  'storage.title': 'Storage classes', 'storage.default': 'default', 'storage.provisioner': 'Provisioner', 'storage.reclaim': 'Reclaim policy',
  'storage.binding': 'Binding', 'storage.expansion': 'Expandable',

  'namespaces.title': 'Namespaces', 'namespaces.sub': 'Every namespace of the cluster; those of projects link to them.',
  'namespaces.workspace': 'Workspace',

  'tenancy.title': 'Workspaces & projects', 'tenancy.sub': 'A project is a Kubernetes namespace; workspaces group projects and their admins.',
  'tenancy.newWorkspace': 'New workspace', 'tenancy.newProject': 'New project', 'tenancy.newProjectIn': 'New project in {workspace}',
  'tenancy.nameHint': 'Lower-case letters, digits and "-".', 'tenancy.projectHint': 'Becomes the namespace name: lower-case letters, digits and "-".',
  'tenancy.workspace': 'Workspace', 'tenancy.project': 'Project', 'tenancy.projects': 'Projects', 'tenancy.role': 'Role',
  'tenancy.noWorkspaces': 'You are not a member of any project yet; ask an administrator to add you.',
  'tenancy.noWorkspacesAdmin': 'Create a workspace, then projects inside it.', 'tenancy.noProjects': 'No projects yet.',
  'tenancy.members': 'Members', 'tenancy.noMembers': 'No members yet.', 'tenancy.source': 'Granted', 'tenancy.fromSSO': 'single sign-on',
  'tenancy.manual': 'by hand', 'tenancy.remove': 'Remove', 'tenancy.removeQuestion': 'Remove {user} from {name}?', 'tenancy.addMember': 'Add member',
  'tenancy.deleteWorkspace': 'Delete workspace', 'tenancy.deleteWorkspaceQuestion': 'Delete workspace {workspace}? It must have no projects.',
  'tenancy.deleteProject': 'Delete project', 'tenancy.deleteProjectQuestion': 'Delete project {project} and everything running in it? This cannot be undone.',
  'tenancy.projectMembers': 'Project {project}', 'tenancy.inWorkspace': 'in workspace {workspace}',
  'tenancy.rolesExplained': 'Viewers see everything except secret values; operators also deploy, scale, roll back and delete; admins also manage members.',

  'role.admin': 'admin', 'role.operator': 'operator', 'role.viewer': 'viewer',

  'kind.deployments': 'Deployments', 'kind.statefulsets': 'Stateful sets', 'kind.daemonsets': 'Daemon sets', 'kind.jobs': 'Jobs',
  'kind.cronjobs': 'Cron jobs', 'kind.pods': 'Pods', 'kind.replicasets': 'Replica sets', 'kind.services': 'Services', 'kind.ingresses': 'Ingresses',
  'kind.configmaps': 'Config maps', 'kind.secrets': 'Secrets', 'kind.persistentvolumeclaims': 'Volume claims',

  'kindOne.deployments': 'Deployment', 'kindOne.statefulsets': 'Stateful set', 'kindOne.daemonsets': 'Daemon set', 'kindOne.jobs': 'Job',
  'kindOne.cronjobs': 'Cron job', 'kindOne.replicasets': 'Replica set',

  'workloads.title': 'Workloads', 'workloads.inProject': 'project {project}', 'workloads.new': 'Deploy', 'workloads.all': 'All',
  'workloads.kind': 'Kind', 'workloads.ready': 'Ready', 'workloads.images': 'Images', 'workloads.empty': 'No workloads in this project.',
  'workloads.emptyWriter': 'No workloads yet. Use "Deploy" to run an image from the local registry.',

  'create.title': 'Deploy', 'create.form': 'From an image', 'create.yaml': 'From YAML', 'create.nameHint': 'Lower-case letters, digits and "-", starting with a letter.',
  'create.image': 'Image', 'create.imageHint': 'Pick an image from the local registry or type a reference.',
  'create.imageNoRegistry': 'The local registry cannot be listed; type the image reference.', 'create.replicas': 'Replicas',
  'create.schedule': 'Schedule', 'create.scheduleHint': 'Cron format, e.g. */5 * * * *', 'create.port': 'Container port',
  'create.portHint': 'Optional; adds a readiness check so updates wait for new pods.', 'create.expose': 'Expose as service',
  'create.exposeNone': 'Not exposed', 'create.exposeCluster': 'Inside the cluster (ClusterIP)', 'create.exposeNode': 'On every node (NodePort)',
  'create.env': 'Environment', 'create.envHint': 'One NAME=value per line.', 'create.cpuRequest': 'CPU request', 'create.memoryRequest': 'Memory request',
  'create.cpuLimit': 'CPU limit', 'create.memoryLimit': 'Memory limit', 'create.yamlHint': 'Objects are created or updated in project {project}; all documents are checked before any is applied.',
  'create.apply': 'Apply', 'create.applied': 'Applied',

  'detail.scale': 'Scale', 'detail.restart': 'Restart', 'detail.restartQuestion': 'Restart all pods of {name}, one after the other?',
  'detail.changeImage': 'Change image', 'detail.update': 'Update', 'detail.container': 'Container', 'detail.pod': 'Pod',
  'detail.deleteQuestion': 'Delete {name} and its pods?', 'detail.revision': 'Revision', 'detail.revisions': 'Revisions', 'detail.current': 'current',
  'detail.created': 'Created', 'detail.rollback': 'Roll back', 'detail.rollbackQuestion': 'Roll {name} back to revision {revision}?',
  'detail.pods': 'Pods', 'detail.logs': 'Logs', 'detail.noPods': 'No pods.', 'detail.monitoring': 'Monitoring', 'detail.cpu': 'CPU (cores)',
  'detail.memory': 'Memory', 'detail.network': 'Network (receive / transmit)', 'detail.restarts': 'Restarts',

  'logs.filter': 'Filter lines…', 'logs.exact': 'exact', 'logs.pause': 'Pause', 'logs.resume': 'Resume', 'logs.download': 'Download',
  'logs.empty': 'No log lines yet.', 'logs.state.connecting': 'connecting…', 'logs.state.live': 'live', 'logs.state.ended': 'ended',
  'logs.state.reconnecting': 'reconnecting…',

  'pods.title': 'Pods', 'pods.ready': 'Ready', 'pods.restarts': 'Restarts', 'pods.node': 'Node', 'pods.ip': 'Pod IP', 'pods.owner': 'Workload',
  'pods.deleteQuestion': 'Delete pod {name}? Its workload replaces it.',

  'events.title': 'Events', 'events.type': 'Type', 'events.object': 'Object', 'events.count': 'Count', 'events.lastSeen': 'Last seen',
  'events.none': 'No events.',

  'services.type': 'Type', 'services.clusterIP': 'Cluster IP', 'services.ports': 'Ports', 'services.external': 'External',
  'ingresses.class': 'Class', 'ingresses.rules': 'Routes', 'ingresses.tls': 'TLS hosts', 'ingresses.address': 'Address',
  'configmaps.keys': 'Data', 'configmaps.count': '{n} keys', 'configmaps.binary': 'binary data',
  'secrets.type': 'Type', 'secrets.keys': 'Keys', 'secrets.reveal': 'Reveal', 'secrets.revealedTitle': 'Secret {name}',
  'secrets.audited': 'Revealing a secret is recorded in the audit log.', 'secrets.base64': '(binary, base64)',
  'pvcs.capacity': 'Capacity', 'pvcs.storageClass': 'Storage class', 'pvcs.accessModes': 'Access modes', 'pvcs.volume': 'Volume',
  'resources.createYAML': 'Create from YAML', 'resources.deleteQuestion': 'Delete {name}?',

  'images.title': 'Images', 'images.sub': 'Repositories and tags in the local registry.', 'images.filter': 'Filter…', 'images.gc': 'Collect garbage',
  'images.gcQuestion': 'Free the space of layers no image uses? Images in use are never touched.', 'images.gcDone': 'Garbage collection removed {blobs} blobs and freed {size}.',
  'images.none': 'No images yet. Import a bundle or push with crane, skopeo or docker.', 'images.tag': 'Tag', 'images.digest': 'Digest',
  'images.size': 'Size', 'images.platforms': 'Platforms', 'images.source': 'Came from', 'images.deleteQuestion': 'Delete {ref}?',

  'bundles.title': 'Bundles', 'bundles.sub': 'Offline bundles carry images, charts and upgrades onto this appliance.',
  'bundles.upload': 'Upload a bundle', 'bundles.uploadHint': 'Large bundles are sent in pieces; if the connection drops, choose the same file again to continue where it stopped.',
  'bundles.retrying': 'connection lost, retrying…', 'bundles.pause': 'Pause', 'bundles.history': 'Imported bundles', 'bundles.none': 'No bundles yet.',
  'bundles.file': 'File', 'bundles.progress': 'Progress', 'bundles.result': 'Result', 'bundles.by': 'By', 'bundles.when': 'When',
  'bundles.images': '{n} images', 'bundles.phase.verifying': 'verifying', 'bundles.phase.importing': 'importing',
  'bundles.cancelQuestion': 'Cancel the upload of {file}?',
  'bundles.allowUnsigned': 'Accept a bundle that is not signed by a trusted key (recorded in the audit log)',

  'alerts.title': 'Alerts', 'alerts.alerts': 'Alerts', 'alerts.rules': 'Rules', 'alerts.silences': 'Silences', 'alerts.receivers': 'Notifications',
  'alerts.any': 'any', 'alerts.firing': 'firing', 'alerts.pending': 'pending', 'alerts.resolved': 'resolved', 'alerts.silenced': 'silenced', 'alerts.none': 'No alerts.',
  'alerts.alert': 'Alert', 'alerts.severity': 'Severity', 'alerts.summary': 'Summary', 'alerts.labels': 'Labels', 'alerts.since': 'Since',
  'alerts.rule': 'Rule', 'alerts.group': 'Group', 'alerts.query': 'Query', 'alerts.for': 'For', 'alerts.newSilence': 'New silence',
  'alerts.noSilences': 'No silences.', 'alerts.matchers': 'Matchers', 'alerts.matchersHint': 'Comma-separated, e.g. alertname=HighCPU, namespace=shop',
  'alerts.until': 'Until', 'alerts.by': 'By', 'alerts.comment': 'Comment', 'alerts.expire': 'Expire', 'alerts.expireQuestion': 'End this silence now?',
  'alerts.hours': 'Duration (hours)', 'alerts.newReceiver': 'New notification channel', 'alerts.noReceivers': 'No notification channels.',
  'alerts.kind': 'Type', 'alerts.kind.webhook': 'Webhook', 'alerts.kind.wecom': 'WeCom', 'alerts.kind.dingtalk': 'DingTalk', 'alerts.kind.feishu': 'Feishu',
  'alerts.kind.email': 'E-mail', 'alerts.allAlerts': 'all alerts', 'alerts.fromConfig': 'from the config file', 'alerts.deleteReceiver': 'Delete channel {name}?', 'alerts.url': 'URL',
  'alerts.signSecret': 'Signing secret', 'alerts.to': 'To', 'alerts.from': 'From', 'alerts.smarthost': 'SMTP server',

  'users.title': 'Users', 'users.new': 'New user', 'users.name': 'User name', 'users.displayName': 'Display name', 'users.email': 'E-mail',
  'users.source': 'Account', 'users.local': 'local', 'users.platformAdmin': 'Platform admin', 'users.lastLogin': 'Last login', 'users.never': 'never',
  'users.makeAdmin': 'Make admin', 'users.revokeAdmin': 'Revoke admin', 'users.enable': 'Enable', 'users.disable': 'Disable',
  'users.resetPassword': 'Reset password', 'users.resetPasswordFor': 'Reset password of {name}', 'users.deleteQuestion': 'Delete user {name}?',
  'users.initialPassword': 'Initial password', 'users.initialPasswordHint': 'The user must change it at first login.',

  'audit.title': 'Audit log', 'audit.sub': 'Every change made through the console or its API.', 'audit.exportCSV': 'Export CSV',
  'audit.exportJSON': 'Export JSON', 'audit.actor': 'Who', 'audit.action': 'Action', 'audit.result': 'Result', 'audit.text': 'Text',
  'audit.since': 'From', 'audit.until': 'To', 'audit.search': 'Search', 'audit.success': 'success', 'audit.denied': 'denied', 'audit.failure': 'failure',
  'audit.when': 'When', 'audit.object': 'Object', 'audit.change': 'Change', 'audit.ip': 'From address', 'audit.more': 'Older entries',

  'account.title': 'Account', 'account.tokens': 'API tokens', 'account.tokensHint': 'Scripts use a token with "Authorization: Bearer <token>"; it acts as you.',
  'account.tokenCreated': 'Copy the token now; it is not shown again:', 'account.noTokens': 'No tokens.', 'account.created': 'Created',
  'account.lastUsed': 'Last used', 'account.expires': 'Expires', 'account.never': 'never', 'account.revoke': 'Revoke',
  'account.revokeQuestion': 'Revoke token {name}? Scripts using it stop working.', 'account.expiresInDays': 'Expires in days',
  'account.zeroNever': '0 = never', 'account.createToken': 'Create token',
};

const zhCN = {
  'common.loading': '加载中…', 'common.empty': '暂无内容。', 'common.notFound': '页面不存在', 'common.close': '关闭', 'common.cancel': '取消',
  'common.confirm': '确认', 'common.create': '创建', 'common.delete': '删除', 'common.save': '保存', 'common.name': '名称',
  'common.description': '描述', 'common.status': '状态', 'common.age': '已运行', 'common.reason': '原因', 'common.message': '消息',
  'common.details': '详情', 'common.yes': '是', 'common.no': '否', 'common.copy': '复制', 'common.copied': '已复制',
  'time.seconds': '{n}秒', 'time.minutes': '{n}分', 'time.hours': '{n}小时', 'time.days': '{n}天',

  'nav.main': '主导航', 'nav.overview': '概览', 'nav.projects': '企业空间与项目', 'nav.project': '项目', 'nav.workloads': '工作负载',
  'nav.pods': '容器组', 'nav.services': '服务', 'nav.ingresses': '应用路由', 'nav.configmaps': '配置字典', 'nav.secrets': '保密字典',
  'nav.volumes': '存储卷声明', 'nav.events': '事件', 'nav.members': '成员与设置', 'nav.cluster': '集群', 'nav.nodes': '节点',
  'nav.storage': '存储类', 'nav.namespaces': '命名空间', 'nav.images': '镜像', 'nav.bundles': '离线包', 'nav.alerts': '告警',
  'nav.administration': '平台管理', 'nav.users': '用户', 'nav.audit': '审计日志', 'nav.logout': '退出登录', 'nav.language': '语言',

  'login.title': '登录控制台', 'login.username': '用户名', 'login.password': '密码', 'login.submit': '登录', 'login.sso': '使用{name}登录',
  'login.ssoFailed': '单点登录未完成，请重试。', 'login.ssoNameTaken': '已有同名本地账号，请联系管理员。',
  'login.ssoBadUsername': '您的单点登录用户名无法在此使用，请联系管理员。', 'login.ssoUnavailable': '单点登录服务暂时无法访问，请稍后重试或使用本地账号。',

  'password.title': '修改密码', 'password.mustChange': '继续之前，请设置您自己的密码。', 'password.current': '当前密码', 'password.new': '新密码',
  'password.repeat': '再次输入新密码', 'password.hint': '至少 10 个字符。', 'password.submit': '修改密码', 'password.mismatch': '两次输入的新密码不一致。',
  'password.changed': '密码已修改，其他会话已退出。',

  'overview.title': '概览', 'overview.nodes': '节点', 'overview.ready': '就绪', 'overview.pods': '容器组', 'overview.running': '运行中',
  'overview.workloads': '工作负载', 'overview.alerts': '告警', 'overview.firing': '触发中', 'overview.registry': '镜像仓库',
  'overview.registryNote': '{repos} 个仓库，{tags} 个标签', 'overview.unavailable': '不可用', 'overview.usage': '集群资源使用',
  'overview.cpu': 'CPU', 'overview.memory': '内存', 'overview.disk': '磁盘', 'overview.versions': '版本',
  'overview.monitoringOff': '本设备未开启监控。', 'overview.clusterUnavailable': '集群尚未就绪，就绪后本页自动显示。',
  'chart.range': '时间范围', 'chart.noData': '该时间范围内暂无数据。',

  'tenancy.title': '企业空间与项目', 'tenancy.sub': '每个项目是一个 Kubernetes 命名空间；企业空间组织项目及其管理员。',
  'tenancy.newWorkspace': '新建企业空间', 'tenancy.newProject': '新建项目', 'tenancy.newProjectIn': '在 {workspace} 中新建项目',
  'tenancy.workspace': '企业空间', 'tenancy.project': '项目', 'tenancy.projects': '项目', 'tenancy.role': '角色', 'tenancy.members': '成员',
  'tenancy.addMember': '添加成员', 'tenancy.remove': '移除', 'tenancy.deleteProject': '删除项目', 'tenancy.deleteWorkspace': '删除企业空间',
  'tenancy.noProjects': '暂无项目。', 'tenancy.noMembers': '暂无成员。',
  'tenancy.rolesExplained': '观察者可查看除保密字典值以外的一切；操作员还可部署、扩缩容、回滚和删除；管理员还可管理成员。',
  'role.admin': '管理员', 'role.operator': '操作员', 'role.viewer': '观察者',

  'kind.deployments': '部署', 'kind.statefulsets': '有状态副本集', 'kind.daemonsets': '守护进程集', 'kind.jobs': '任务', 'kind.cronjobs': '定时任务',
  'kind.pods': '容器组', 'kind.services': '服务', 'kind.ingresses': '应用路由', 'kind.configmaps': '配置字典', 'kind.secrets': '保密字典',
  'kind.persistentvolumeclaims': '存储卷声明',
  'kindOne.deployments': '部署', 'kindOne.statefulsets': '有状态副本集', 'kindOne.daemonsets': '守护进程集', 'kindOne.jobs': '任务', 'kindOne.cronjobs': '定时任务',

  'workloads.title': '工作负载', 'workloads.inProject': '项目 {project}', 'workloads.new': '部署应用', 'workloads.all': '全部', 'workloads.kind': '类型',
  'workloads.ready': '就绪', 'workloads.images': '镜像', 'workloads.empty': '此项目中暂无工作负载。',
  'workloads.emptyWriter': '暂无工作负载。点击“部署应用”即可运行本地仓库中的镜像。',
  'create.title': '部署应用', 'create.form': '从镜像部署', 'create.yaml': '从 YAML 创建', 'create.image': '镜像', 'create.replicas': '副本数',
  'create.port': '容器端口', 'create.expose': '暴露为服务', 'create.exposeNone': '不暴露', 'create.env': '环境变量', 'create.apply': '应用',
  'detail.scale': '扩缩容', 'detail.restart': '重启', 'detail.changeImage': '更换镜像', 'detail.update': '更新', 'detail.revision': '版本',
  'detail.revisions': '版本记录', 'detail.current': '当前', 'detail.rollback': '回滚', 'detail.pods': '容器组', 'detail.logs': '日志',
  'detail.monitoring': '监控', 'detail.memory': '内存', 'detail.network': '网络（接收 / 发送）', 'detail.restarts': '重启次数',
  'logs.filter': '按关键字过滤…', 'logs.exact': '精确', 'logs.pause': '暂停', 'logs.resume': '继续', 'logs.download': '下载',
  'logs.empty': '暂无日志。', 'logs.state.live': '实时', 'logs.state.ended': '已结束',
  'pods.title': '容器组', 'pods.ready': '就绪', 'pods.restarts': '重启', 'pods.node': '节点', 'pods.owner': '工作负载',
  'events.title': '事件', 'events.none': '暂无事件。',
  'secrets.reveal': '查看', 'secrets.audited': '查看保密字典的值会记录到审计日志。',
  'images.title': '镜像', 'images.sub': '本地镜像仓库中的仓库与标签。', 'images.gc': '垃圾回收', 'images.tag': '标签', 'images.size': '大小', 'images.source': '来源',
  'bundles.title': '离线包', 'bundles.upload': '上传离线包', 'bundles.history': '已导入的离线包',
  'bundles.uploadHint': '大文件分片上传；连接中断后重新选择同一文件即可从中断处继续。',
  'alerts.title': '告警', 'alerts.rules': '告警规则', 'alerts.silences': '静默', 'alerts.receivers': '通知渠道', 'alerts.firing': '触发中', 'alerts.resolved': '已恢复',
  'users.title': '用户', 'users.new': '新建用户', 'users.name': '用户名', 'users.platformAdmin': '平台管理员',
  'audit.title': '审计日志', 'audit.sub': '通过控制台或其 API 所做的每一次变更。', 'audit.actor': '操作人', 'audit.action': '操作', 'audit.result': '结果',
  'audit.search': '搜索', 'audit.exportCSV': '导出 CSV', 'audit.exportJSON': '导出 JSON',
  'account.title': '账号', 'account.tokens': 'API 令牌',
};

const catalogs = { en, 'zh-CN': zhCN };

export const languages = [['en', 'English'], ['zh-CN', '简体中文']];

let current = localStorage.getItem('outpost.lang') || (navigator.language?.startsWith('zh') ? 'zh-CN' : 'en');
if (!catalogs[current]) current = 'en';
document.documentElement.lang = current;

export const lang = () => current;

export function setLang(code) {
  if (catalogs[code]) localStorage.setItem('outpost.lang', code);
}

// t returns the message for key with {placeholders} filled from vars;
// fallback is used when no catalog knows the key (e.g. a phase name that
// the server added later).
export function t(key, vars, fallback) {
  let msg = catalogs[current][key] ?? en[key] ?? fallback ?? key;
  if (vars) for (const [k, v] of Object.entries(vars)) msg = msg.replaceAll('{' + k + '}', v);
  return msg;
}

export const messageKeys = () => Object.keys(en);
