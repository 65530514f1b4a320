// The API: a Python Function app on the Flex Consumption plan (billed per execution and per
// GB-second while it runs; scales to zero unless always-ready instances are asked for).
// It runs as the user-assigned identity: host storage, the deployment package, telemetry,
// Cosmos DB, Blob Storage and Azure OpenAI are all reached with Entra ID, never with a key.
//
// `appSettings` below is the one list of everything the app reads in Azure.
// tests/test_infra.py checks it against shared/settings.py: each setting the app defines is
// set here or listed there as optional with a reason, and no secret setting appears.
param name string
param planName string
param location string
param tags object

param identityName string
param hostStorageName string
@description('Blob container URL the Flex deployment package is uploaded to.')
param deploymentContainerUrl string
param appInsightsName string

// Flex Consumption scale and runtime
param pythonVersion string
param alwaysReadyInstanceCount int
param maximumInstanceCount int
param instanceMemoryMB int
param httpPerInstanceConcurrency int

// Who may call the API
@allowed([
  'direct'
  'linked'
])
param apiTopology string
param staticWebAppUrl string
param entraTenantId string
param entraAudience string

// What the app talks to
param openAiEndpoint string
param openAiDeployment string
param openAiApiVersion string
param modelApi string
param cosmosEndpoint string
param cosmosDatabaseName string
param cosmosContainerName string
param cosmosTtlSeconds int
param attachmentsAccountUrl string
param attachmentsContainerName string
param chatkitDomainKey string
param logLevel string

var isDirect = apiTopology == 'direct'
// 0 (the default) means no always-ready instance: nothing is billed while idle.
var alwaysReady = alwaysReadyInstanceCount > 0 ? [{ name: 'http', instanceCount: alwaysReadyInstanceCount }] : []
// Origins that call the API from a browser: the page, in the direct topology only (linked:
// the page calls its own origin and SWA proxies).
var browserOrigins = isDirect ? [staticWebAppUrl] : []

resource identity 'Microsoft.ManagedIdentity/userAssignedIdentities@2023-01-31' existing = {
  name: identityName
}

resource appInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: appInsightsName
}

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource site 'Microsoft.Web/sites@2024-04-01' = {
  name: name
  location: location
  tags: tags
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identity.id}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    publicNetworkAccess: 'Enabled'
    siteConfig: {
      minTlsVersion: '1.2'
      ftpsState: 'Disabled'
      // Platform CORS for the page (direct topology). Bearer tokens, not cookies: no
      // credentials mode. The app also receives the list as CORS_ALLOWED_ORIGINS.
      cors: {
        allowedOrigins: browserOrigins
        supportCredentials: false
      }
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: deploymentContainerUrl
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identity.id
          }
        }
      }
      scaleAndConcurrency: {
        alwaysReady: alwaysReady
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
        triggers: {
          http: {
            // Streams wait on the model most of the time; async handlers share an instance.
            perInstanceConcurrency: httpPerInstanceConcurrency
          }
        }
      }
      runtime: {
        name: 'python'
        version: pythonVersion
      }
    }
  }
}

var functionUrl = 'https://${site.properties.defaultHostName}'

var appSettings = {
  // ── Functions host ──
  // Identity-based host storage: no AzureWebJobsStorage connection string exists.
  AzureWebJobsStorage__accountName: hostStorageName
  AzureWebJobsStorage__credential: 'managedidentity'
  AzureWebJobsStorage__clientId: identity.properties.clientId
  // The connection string names the component and its endpoints; with local auth off it is
  // not a credential: ingestion needs an Entra token of this identity.
  APPLICATIONINSIGHTS_CONNECTION_STRING: appInsights.properties.ConnectionString
  APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'Authorization=AAD;ClientId=${identity.properties.clientId}'
  // Streaming HTTP on Python <= 3.12 needs init indexing.
  PYTHON_ENABLE_INIT_INDEXING: '1'
  // DefaultAzureCredential picks this user-assigned identity.
  AZURE_CLIENT_ID: identity.properties.clientId

  // ── Who may call ──
  AUTH_MODE: isDirect ? 'entra' : 'platform'
  ENTRA_TENANT_ID: isDirect ? entraTenantId : ''
  ENTRA_AUDIENCE: isDirect ? entraAudience : ''
  CORS_ALLOWED_ORIGINS: join(browserOrigins, ',')
  // Links the app hands out (uploads through the app, attachment content) must use the
  // origin the browser talks to: the Function app, or the static web app that proxies it.
  PUBLIC_BASE_URL: isDirect ? functionUrl : staticWebAppUrl

  // ── Model ──
  AZURE_OPENAI_ENDPOINT: openAiEndpoint
  AZURE_OPENAI_DEPLOYMENT: openAiDeployment
  AZURE_OPENAI_API_VERSION: openAiApiVersion
  AZURE_OPENAI_MODEL_API: modelApi

  // ── Conversations ──
  COSMOS_ENDPOINT: cosmosEndpoint
  COSMOS_DATABASE: cosmosDatabaseName
  COSMOS_CONTAINER: cosmosContainerName
  // Created by cosmos.bicep; the identity's data-plane role could not create them.
  COSMOS_CREATE_IF_MISSING: 'false'
  COSMOS_TTL_SECONDS: string(cosmosTtlSeconds)

  // ── Attachments ──
  AZURE_STORAGE_ACCOUNT_URL: attachmentsAccountUrl
  ATTACHMENTS_CONTAINER: attachmentsContainerName
  // Browsers PUT bytes straight to Blob with a one-blob SAS (storage CORS admits the page).
  ATTACHMENT_UPLOAD: 'direct'

  // ── Page and logs ──
  CHATKIT_DOMAIN_KEY: chatkitDomainKey
  LOG_LEVEL: logLevel
}

resource settings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: site
  name: 'appsettings'
  properties: appSettings
}

// Deployments use Entra ID (azd publishes with a token); basic-auth publishing stays off.
resource ftpBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'ftp'
  properties: {
    allow: false
  }
}

resource scmBasicAuth 'Microsoft.Web/sites/basicPublishingCredentialsPolicies@2024-04-01' = {
  parent: site
  name: 'scm'
  properties: {
    allow: false
  }
}

output name string = site.name
output id string = site.id
output uri string = functionUrl
