// Cosmos DB for NoSQL, serverless (billed per request unit consumed and GB stored; nothing
// while idle), keys off: only Entra ID identities with a Cosmos data-plane role get in.
// The container is defined exactly as shared/stores/cosmos.py expects it (and as
// docs/cosmos-data-model.md explains): tests/test_infra.py compares the partition key and the
// indexing policy below with the store's PARTITION_PATHS and INDEXING_POLICY.
// The app runs with COSMOS_CREATE_IF_MISSING=false: data-plane roles cannot create
// databases or containers, so they are created here.
param accountName string
param location string
param tags object
param databaseName string
param containerName string

@description('Turn TTL on for the container (defaultTtl -1: per-document ttl, which the app writes when COSMOS_TTL_SECONDS > 0).')
param ttlEnabled bool

param appPrincipalId string

@description('Deploying principal for local development against this account; empty to skip.')
param deployerPrincipalId string

var roles = loadJsonContent('../built-in-roles.json')

resource account 'Microsoft.DocumentDB/databaseAccounts@2024-11-15' = {
  name: accountName
  location: location
  tags: tags
  kind: 'GlobalDocumentDB'
  properties: {
    databaseAccountOfferType: 'Standard'
    capabilities: [
      {
        name: 'EnableServerless'
      }
    ]
    locations: [
      {
        locationName: location
        failoverPriority: 0
        isZoneRedundant: false
      }
    ]
    consistencyPolicy: {
      defaultConsistencyLevel: 'Session'
    }
    disableLocalAuth: true
    disableKeyBasedMetadataWriteAccess: true
    minimalTlsVersion: 'Tls12'
    // The Function app has no virtual network; access is by Entra ID role only.
    publicNetworkAccess: 'Enabled'
  }
}

resource database 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases@2024-11-15' = {
  parent: account
  name: databaseName
  properties: {
    resource: {
      id: databaseName
    }
  }
}

resource container 'Microsoft.DocumentDB/databaseAccounts/sqlDatabases/containers@2024-11-15' = {
  parent: database
  name: containerName
  properties: {
    resource: {
      id: containerName
      // One partition per conversation, grouped by user: [userId, threadId].
      partitionKey: {
        paths: [
          '/userId'
          '/threadId'
        ]
        kind: 'MultiHash'
        version: 2
      }
      // Only the paths queries filter or order on are indexed (the ChatKit payload in /data
      // is not), which keeps write RU low; one composite index per paging direction.
      indexingPolicy: {
        indexingMode: 'consistent'
        automatic: true
        includedPaths: [
          {
            path: '/userId/?'
          }
          {
            path: '/threadId/?'
          }
          {
            path: '/docType/?'
          }
          {
            path: '/sortKey/?'
          }
          {
            path: '/attachmentThreadId/?'
          }
        ]
        excludedPaths: [
          {
            path: '/*'
          }
        ]
        compositeIndexes: [
          [
            {
              path: '/docType'
              order: 'ascending'
            }
            {
              path: '/sortKey'
              order: 'ascending'
            }
          ]
          [
            {
              path: '/docType'
              order: 'ascending'
            }
            {
              path: '/sortKey'
              order: 'descending'
            }
          ]
        ]
      }
      defaultTtl: ttlEnabled ? -1 : null
    }
  }
}

// Cosmos DB Built-in Data Contributor (a Cosmos SQL role definition, not Azure RBAC), scoped
// to the app's database: items only; no account keys, no database or container management.
var dataContributor = '${account.id}/sqlRoleDefinitions/${roles.cosmosDbBuiltInDataContributor.id}'
var databaseScope = '${account.id}/dbs/${database.name}'

resource appDataAccess 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-11-15' = {
  parent: account
  name: guid(account.id, appPrincipalId, roles.cosmosDbBuiltInDataContributor.id)
  properties: {
    roleDefinitionId: dataContributor
    principalId: appPrincipalId
    scope: databaseScope
  }
  // Cosmos DB runs one control-plane operation per account at a time: serialize them.
  dependsOn: [
    container
  ]
}

resource deployerDataAccess 'Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments@2024-11-15' = if (!empty(deployerPrincipalId)) {
  parent: account
  name: guid(account.id, deployerPrincipalId, roles.cosmosDbBuiltInDataContributor.id)
  properties: {
    roleDefinitionId: dataContributor
    principalId: deployerPrincipalId
    scope: databaseScope
  }
  dependsOn: [
    appDataAccess
  ]
}

output endpoint string = account.properties.documentEndpoint
