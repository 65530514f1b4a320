// `azd up` provisions everything the chat app needs in one resource group:
//
//   Static Web App (the page) ──► Function app, Flex Consumption (the API, streaming SSE)
//                                   │ user-assigned managed identity, no keys anywhere
//                                   ├─► Cosmos DB serverless   threads, items, session state
//                                   ├─► Storage (attachments)  bytes, user-delegation SAS
//                                   ├─► Azure OpenAI           chat model deployment
//                                   └─► Application Insights   Entra-authenticated ingestion
//
// Two topologies (apiTopology):
//   direct (default): the page calls the Function app itself over CORS and sends an Entra ID
//     bearer token; Static Web Apps Free; no proxy time limit on streamed answers.
//   linked: Static Web Apps Standard proxies /api to the Function app (same origin, SWA
//     sign-in, x-ms-client-principal); the link restricts the Function app to SWA; 45 s cap
//     on each proxied request.
// infra/README.md is the deploy guide; tests/test_infra.py keeps these files in step with the
// code (settings, container definition, roles).
targetScope = 'subscription'

// ── Environment ─────────────────────────────────────────────────────────────────────────

@minLength(1)
@maxLength(64)
@description('azd environment name: part of the resource group name, the resource token and the azd-env-name tag.')
param environmentName string

@minLength(1)
@description('Region of the Function app, Cosmos DB, Storage and monitoring. It must offer the Flex Consumption plan (az functionapp list-flexconsumption-locations).')
param location string

@description('Resource group to create or reuse. Default: rg-<environmentName>.')
param resourceGroupName string = ''

@description('Object id of the principal running azd (azd sets AZURE_PRINCIPAL_ID). Gets data access for local development when deployerDataAccess is true.')
param principalId string = ''

@allowed([
  'User'
  'ServicePrincipal'
])
@description('Kind of principalId: User for a person, ServicePrincipal for a CI identity.')
param principalType string = 'User'

@description('Grant principalId data access to Cosmos DB, the attachments container and Azure OpenAI, so the app can run on your machine against these resources. Turn off for production environments deployed from CI.')
param deployerDataAccess bool = true

// ── Topology and sign-in ────────────────────────────────────────────────────────────────

@allowed([
  'direct'
  'linked'
])
@description('direct: the page calls the Function app over CORS with Entra ID bearer tokens (AUTH_MODE=entra, Static Web Apps Free). linked: Static Web Apps Standard proxies /api to the Function app (AUTH_MODE=platform).')
param apiTopology string = 'direct'

@description('Tenant of the Entra ID app registrations (direct topology). Default: the subscription\'s tenant.')
param entraTenantId string = ''

@description('Client id of the API app registration (direct topology). The preprovision hook creates it, or set ENTRA_API_CLIENT_ID to your own.')
param entraApiClientId string = ''

@description('Audiences the API accepts in bearer tokens, comma-separated. Default: entraApiClientId and api://<entraApiClientId> (v2 and v1 access tokens).')
param entraAudience string = ''

@allowed([
  'centralus'
  'eastasia'
  'eastus2'
  'westeurope'
  'westus2'
])
@description('Region of the Static Web App resource (its content is served globally; this is where its metadata and any proxying live).')
param staticWebAppLocation string = 'eastus2'

// ── Function app (Flex Consumption) ─────────────────────────────────────────────────────

@allowed([
  '3.10'
  '3.11'
  '3.12'
])
@description('Python version of the Function app.')
param pythonVersion string = '3.11'

@minValue(0)
@maxValue(20)
@description('Always-ready instances for the HTTP functions. 0 = pure pay-per-request (cold starts after idle); each always-ready instance is billed continuously.')
param alwaysReadyInstanceCount int = 0

@minValue(1)
@maxValue(1000)
@description('Upper bound on instances: caps cost and load on Cosmos DB and the model.')
param maximumInstanceCount int = 100

@allowed([
  512
  2048
  4096
])
@description('Memory of each instance in MB (CPU and network scale with it; billed per GB-second).')
param instanceMemoryMB int = 2048

@minValue(1)
@maxValue(1000)
@description('Concurrent HTTP requests per instance. A chat turn is a long, mostly idle stream (awaiting model tokens) served by async code, so one instance carries many at once; Flex bills instance time, so higher concurrency means fewer instances and fewer cold starts.')
param httpPerInstanceConcurrency int = 16

// ── Azure OpenAI ────────────────────────────────────────────────────────────────────────

@description('Region of the Azure OpenAI account (model availability differs by region). Default: location.')
param openAiLocation string = ''

@description('Resource id of an existing Azure OpenAI / AI Foundry account to use instead of creating one. The app identity (and the deployer) get Cognitive Services OpenAI User on it; chatDeploymentName must name an existing deployment there.')
param existingOpenAiResourceId string = ''

@description('Chat model to deploy.')
param chatModelName string = 'gpt-4.1-mini'

@description('Version of the chat model.')
param chatModelVersion string = '2025-04-14'

@description('Name of the model deployment the app calls. Default: chatModelName.')
param chatDeploymentName string = ''

@allowed([
  'GlobalStandard'
  'DataZoneStandard'
  'Standard'
])
@description('Deployment type; all three are billed per token. GlobalStandard may process prompts in any region, DataZoneStandard within the data zone (US/EU), Standard in the account\'s region.')
param chatDeploymentSku string = 'GlobalStandard'

@minValue(1)
@description('Rate limit of the deployment in thousands of tokens per minute (not a reservation: nothing is billed for unused capacity).')
param chatDeploymentCapacity int = 30

@description('Azure OpenAI API version the app uses (it must support the Responses API when modelApi is responses).')
param openAiApiVersion string = '2025-04-01-preview'

@allowed([
  'responses'
  'chat_completions'
])
@description('Which API the app calls on the deployment.')
param modelApi string = 'responses'

// ── Data ────────────────────────────────────────────────────────────────────────────────

@description('Cosmos DB database name.')
param cosmosDatabaseName string = 'chatkit'

@description('Cosmos DB container name.')
param cosmosContainerName string = 'chat'

@minLength(3)
@maxLength(63)
@description('Private blob container for attachment bytes.')
param attachmentsContainerName string = 'attachments'

@minValue(0)
@maxValue(3650)
@description('Conversation retention in days: every Cosmos DB document expires this long after its last write (COSMOS_TTL_SECONDS). 0 keeps everything.')
param retentionDays int = 0

@minValue(0)
@maxValue(3650)
@description('Attachment retention in days: a lifecycle rule deletes attachment blobs this long after upload. 0 = same as retentionDays (0 and 0 keeps everything).')
param attachmentRetentionDays int = 0

// ── App ─────────────────────────────────────────────────────────────────────────────────

@description('Domain key registered with OpenAI for the official ChatKit web component (public, not a secret). Empty: the self-hosted client.')
param chatkitDomainKey string = ''

@allowed([
  'DEBUG'
  'INFO'
  'WARNING'
  'ERROR'
])
param logLevel string = 'INFO'

// ── Names ───────────────────────────────────────────────────────────────────────────────

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var isDirect = apiTopology == 'direct'
var tenantId = empty(entraTenantId) ? tenant().tenantId : entraTenantId
var audience = empty(entraAudience) ? '${entraApiClientId},api://${entraApiClientId}' : entraAudience
var deploymentName = empty(chatDeploymentName) ? chatModelName : chatDeploymentName
var useExistingOpenAi = !empty(existingOpenAiResourceId)
var deployerPrincipalId = deployerDataAccess ? principalId : ''
var effectiveAttachmentRetentionDays = attachmentRetentionDays > 0 ? attachmentRetentionDays : retentionDays
var names = {
  resourceGroup: empty(resourceGroupName) ? 'rg-${environmentName}' : resourceGroupName
  identity: 'id-api-${resourceToken}'
  plan: 'plan-${resourceToken}'
  functionApp: 'func-api-${resourceToken}'
  staticWebApp: 'stapp-web-${resourceToken}'
  // Storage account names: 3-24 lowercase letters and digits, globally unique.
  hostStorage: 'sthost${resourceToken}'
  filesStorage: 'stfiles${resourceToken}'
  cosmos: 'cosmos-${resourceToken}'
  openAi: 'oai-${resourceToken}'
  logAnalytics: 'log-${resourceToken}'
  appInsights: 'appi-${resourceToken}'
}
// Flex Consumption deploys from a blob container in the host storage account.
var deploymentContainerName = 'app-package'

resource rg 'Microsoft.Resources/resourceGroups@2024-03-01' = {
  name: names.resourceGroup
  location: location
  tags: tags
}

// ── Identity and monitoring ─────────────────────────────────────────────────────────────

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: rg
  params: {
    name: names.identity
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: rg
  params: {
    logAnalyticsName: names.logAnalytics
    appInsightsName: names.appInsights
    location: location
    tags: tags
    appPrincipalId: identity.outputs.principalId
  }
}

// ── The page ────────────────────────────────────────────────────────────────────────────

module web 'modules/static-web-app.bicep' = {
  name: 'web'
  scope: rg
  params: {
    name: names.staticWebApp
    location: staticWebAppLocation
    tags: union(tags, { 'azd-service-name': 'web' })
    // Linked backends need Standard; the direct topology needs nothing beyond Free.
    sku: isDirect ? 'Free' : 'Standard'
  }
}

// ── Data ────────────────────────────────────────────────────────────────────────────────

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: rg
  params: {
    hostStorageName: names.hostStorage
    filesStorageName: names.filesStorage
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
    attachmentsContainerName: attachmentsContainerName
    attachmentRetentionDays: effectiveAttachmentRetentionDays
    // Browsers PUT attachment bytes straight to Blob (ATTACHMENT_UPLOAD=direct) from the page.
    browserOrigins: [web.outputs.uri]
    appPrincipalId: identity.outputs.principalId
    deployerPrincipalId: deployerPrincipalId
    deployerPrincipalType: principalType
  }
}

module cosmos 'modules/cosmos.bicep' = {
  name: 'cosmos'
  scope: rg
  params: {
    accountName: names.cosmos
    location: location
    tags: tags
    databaseName: cosmosDatabaseName
    containerName: cosmosContainerName
    ttlEnabled: retentionDays > 0
    appPrincipalId: identity.outputs.principalId
    deployerPrincipalId: deployerPrincipalId
  }
}

// ── Model ───────────────────────────────────────────────────────────────────────────────

module openAi 'modules/openai.bicep' = if (!useExistingOpenAi) {
  name: 'openai'
  scope: rg
  params: {
    name: names.openAi
    location: empty(openAiLocation) ? location : openAiLocation
    tags: tags
    deploymentName: deploymentName
    modelName: chatModelName
    modelVersion: chatModelVersion
    deploymentSku: chatDeploymentSku
    deploymentCapacity: chatDeploymentCapacity
  }
}

// Role assignments (and the endpoint) on the account we created or the one given, which may
// live in another resource group or subscription. A resource id reads
// /subscriptions/<id>/resourceGroups/<name>/providers/Microsoft.CognitiveServices/accounts/<name>.
var openAiSubscriptionId = useExistingOpenAi ? split(existingOpenAiResourceId, '/')[2] : subscription().subscriptionId
var openAiResourceGroupName = useExistingOpenAi ? split(existingOpenAiResourceId, '/')[4] : names.resourceGroup

module openAiAccess 'modules/openai-access.bicep' = {
  name: 'openai-access'
  scope: resourceGroup(openAiSubscriptionId, openAiResourceGroupName)
  params: {
    accountName: useExistingOpenAi ? last(split(existingOpenAiResourceId, '/')) : openAi.outputs.name
    appPrincipalId: identity.outputs.principalId
    deployerPrincipalId: deployerPrincipalId
    deployerPrincipalType: principalType
  }
}

// ── The API ─────────────────────────────────────────────────────────────────────────────

module api 'modules/function-app.bicep' = {
  name: 'api'
  scope: rg
  params: {
    name: names.functionApp
    planName: names.plan
    location: location
    tags: union(tags, { 'azd-service-name': 'api' })
    identityName: identity.outputs.name
    hostStorageName: storage.outputs.hostStorageName
    deploymentContainerUrl: storage.outputs.deploymentContainerUrl
    appInsightsName: monitoring.outputs.appInsightsName
    pythonVersion: pythonVersion
    alwaysReadyInstanceCount: alwaysReadyInstanceCount
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
    httpPerInstanceConcurrency: httpPerInstanceConcurrency
    apiTopology: apiTopology
    staticWebAppUrl: web.outputs.uri
    entraTenantId: tenantId
    entraAudience: audience
    openAiEndpoint: openAiAccess.outputs.endpoint
    openAiDeployment: deploymentName
    openAiApiVersion: openAiApiVersion
    modelApi: modelApi
    cosmosEndpoint: cosmos.outputs.endpoint
    cosmosDatabaseName: cosmosDatabaseName
    cosmosContainerName: cosmosContainerName
    cosmosTtlSeconds: retentionDays * 86400
    attachmentsAccountUrl: storage.outputs.attachmentsAccountUrl
    attachmentsContainerName: attachmentsContainerName
    chatkitDomainKey: chatkitDomainKey
    logLevel: logLevel
  }
}

// Linked topology: SWA proxies /api/* to the Function app and, on linking, configures App
// Service authentication on it so that only this static web app can call it (the app trusts
// the x-ms-client-principal header SWA adds, AUTH_MODE=platform).
module apiLink 'modules/linked-backend.bicep' = if (!isDirect) {
  name: 'api-link'
  scope: rg
  params: {
    staticWebAppName: web.outputs.name
    backendResourceId: api.outputs.id
    backendLocation: location
  }
}

// ── Outputs: azd writes them into .azure/<env>/.env; the hooks read them there. ─────────
// Names match the app's settings where they are one, so `local.settings.json` and the
// Function app agree. None is a secret.

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = tenant().tenantId
output AZURE_RESOURCE_GROUP string = rg.name
output API_TOPOLOGY string = apiTopology

output SERVICE_API_NAME string = api.outputs.name
output SERVICE_API_URI string = api.outputs.uri
output SERVICE_WEB_NAME string = web.outputs.name
output SERVICE_WEB_URI string = web.outputs.uri
output AZURE_FUNCTION_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output AZURE_FUNCTION_IDENTITY_PRINCIPAL_ID string = identity.outputs.principalId

output ENTRA_TENANT_ID string = tenantId

output AZURE_OPENAI_ENDPOINT string = openAiAccess.outputs.endpoint
output AZURE_OPENAI_DEPLOYMENT string = deploymentName
output AZURE_OPENAI_API_VERSION string = openAiApiVersion
output AZURE_OPENAI_MODEL_API string = modelApi

output COSMOS_ENDPOINT string = cosmos.outputs.endpoint
output COSMOS_DATABASE string = cosmosDatabaseName
output COSMOS_CONTAINER string = cosmosContainerName
output COSMOS_TTL_SECONDS int = retentionDays * 86400

output AZURE_STORAGE_ACCOUNT_URL string = storage.outputs.attachmentsAccountUrl
output ATTACHMENTS_CONTAINER string = attachmentsContainerName
