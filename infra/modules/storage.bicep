// Two storage accounts, both keyless (shared-key access off, so no connection string can work):
//
//   host  (sthost…)  the Functions host's own storage and the Flex deployment package.
//                    The app identity is Blob Data Owner here, as the host needs (it creates
//                    its containers). Browsers never reach it.
//   files (stfiles…) attachment bytes in one private container. The app identity may only
//                    read/write blobs of that container, and get a user delegation key to sign
//                    short-lived SAS URLs that browsers use to PUT and GET single blobs. CORS
//                    admits only the page's origin.
//
// Keeping them apart keeps the host's broad role away from user data.
param hostStorageName string
param filesStorageName string
param location string
param tags object
param deploymentContainerName string
param attachmentsContainerName string

@description('Days after upload when attachment blobs are deleted; 0 disables the rule.')
param attachmentRetentionDays int

@description('Origins of the page (CORS for direct uploads and previews).')
param browserOrigins array

param appPrincipalId string

@description('Deploying principal for local development against these resources; empty to skip.')
param deployerPrincipalId string
param deployerPrincipalType string

var roles = loadJsonContent('../built-in-roles.json')

// ── Functions host storage ──────────────────────────────────────────────────────────────

resource hostStorage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: hostStorageName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    // Flex Consumption without a virtual network reaches its storage over the public endpoint.
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource hostBlob 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: hostStorage
  name: 'default'
}

resource deploymentContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: hostBlob
  name: deploymentContainerName
  properties: {
    publicAccess: 'None'
  }
}

resource appHostStorageOwner 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(hostStorage.id, appPrincipalId, roles.storageBlobDataOwner.id)
  scope: hostStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataOwner.id)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// ── Attachments ─────────────────────────────────────────────────────────────────────────

resource filesStorage 'Microsoft.Storage/storageAccounts@2023-05-01' = {
  name: filesStorageName
  location: location
  tags: tags
  kind: 'StorageV2'
  sku: {
    name: 'Standard_LRS'
  }
  properties: {
    accessTier: 'Hot'
    allowBlobPublicAccess: false
    allowSharedKeyAccess: false
    allowCrossTenantReplication: false
    defaultToOAuthAuthentication: true
    minimumTlsVersion: 'TLS1_2'
    supportsHttpsTrafficOnly: true
    // Browsers upload and preview with SAS URLs, so the blob endpoint must be public; every
    // request still needs a signature or an Entra token.
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
      bypass: 'AzureServices'
    }
  }
}

resource filesBlob 'Microsoft.Storage/storageAccounts/blobServices@2023-05-01' = {
  parent: filesStorage
  name: 'default'
  properties: {
    cors: {
      corsRules: [
        {
          // The upload descriptor is a PUT with exactly these two headers; GET/HEAD serve
          // previews and downloads through read SAS URLs.
          allowedOrigins: browserOrigins
          allowedMethods: [
            'PUT'
            'GET'
            'HEAD'
          ]
          allowedHeaders: [
            'content-type'
            'x-ms-blob-type'
          ]
          exposedHeaders: [
            'etag'
            'x-ms-request-id'
          ]
          maxAgeInSeconds: 3600
        }
      ]
    }
    // No soft delete: deleting a thread or an attachment must really delete the bytes.
    deleteRetentionPolicy: {
      enabled: false
    }
  }
}

resource attachmentsContainer 'Microsoft.Storage/storageAccounts/blobServices/containers@2023-05-01' = {
  parent: filesBlob
  name: attachmentsContainerName
  properties: {
    publicAccess: 'None'
  }
}

// Retention: attachment blobs are deleted this many days after upload (the conversation
// documents expire by Cosmos DB TTL, COSMOS_TTL_SECONDS). The rule is kept but disabled at 0,
// so turning retention off again takes effect on the next provision.
resource attachmentsLifecycle 'Microsoft.Storage/storageAccounts/managementPolicies@2023-05-01' = {
  parent: filesStorage
  name: 'default'
  properties: {
    policy: {
      rules: [
        {
          name: 'expire-attachments'
          enabled: attachmentRetentionDays > 0
          type: 'Lifecycle'
          definition: {
            filters: {
              blobTypes: [
                'blockBlob'
              ]
              prefixMatch: [
                '${attachmentsContainerName}/'
              ]
            }
            actions: {
              baseBlob: {
                delete: {
                  daysAfterModificationGreaterThan: max(attachmentRetentionDays, 1)
                }
              }
            }
          }
        }
      ]
    }
  }
  dependsOn: [
    attachmentsContainer
  ]
}

// The app: blobs of the attachments container only, plus the account-level right to get a
// user delegation key (the SAS it signs is then limited to one blob and a few minutes).
resource appAttachmentsContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(attachmentsContainer.id, appPrincipalId, roles.storageBlobDataContributor.id)
  scope: attachmentsContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor.id)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource appAttachmentsDelegator 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(filesStorage.id, appPrincipalId, roles.storageBlobDelegator.id)
  scope: filesStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDelegator.id)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

// The deployer, for running the app locally against the cloud (same rights as the app).
resource deployerAttachmentsContributor 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  name: guid(attachmentsContainer.id, deployerPrincipalId, roles.storageBlobDataContributor.id)
  scope: attachmentsContainer
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDataContributor.id)
    principalId: deployerPrincipalId
    principalType: deployerPrincipalType
  }
}

resource deployerAttachmentsDelegator 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  name: guid(filesStorage.id, deployerPrincipalId, roles.storageBlobDelegator.id)
  scope: filesStorage
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.storageBlobDelegator.id)
    principalId: deployerPrincipalId
    principalType: deployerPrincipalType
  }
}

output hostStorageName string = hostStorage.name
output deploymentContainerUrl string = '${hostStorage.properties.primaryEndpoints.blob}${deploymentContainer.name}'
// No trailing slash: AZURE_STORAGE_ACCOUNT_URL is https://<account>.blob.core.windows.net.
output attachmentsAccountUrl string = 'https://${filesStorage.name}.blob.${environment().suffixes.storage}'
