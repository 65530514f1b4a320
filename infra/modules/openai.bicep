// Azure OpenAI account with one chat model deployment, billed per token (GlobalStandard,
// DataZoneStandard or Standard: all pay-as-you-go; capacity is a rate limit, not a
// reservation). Keys are off: callers need Cognitive Services OpenAI User (openai-access.bicep).
param name string
param location string
param tags object
param deploymentName string
param modelName string
param modelVersion string
param deploymentSku string
param deploymentCapacity int

resource account 'Microsoft.CognitiveServices/accounts@2024-10-01' = {
  name: name
  location: location
  tags: tags
  kind: 'OpenAI'
  sku: {
    name: 'S0'
  }
  properties: {
    // Entra ID authentication needs a custom subdomain endpoint.
    customSubDomainName: name
    disableLocalAuth: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      defaultAction: 'Allow'
    }
  }
}

resource chat 'Microsoft.CognitiveServices/accounts/deployments@2024-10-01' = {
  parent: account
  name: deploymentName
  sku: {
    name: deploymentSku
    capacity: deploymentCapacity
  }
  properties: {
    model: {
      format: 'OpenAI'
      name: modelName
      version: modelVersion
    }
    // Stay on the chosen version until Azure retires it, then move to the default.
    versionUpgradeOption: 'OnceCurrentVersionExpired'
  }
}

output name string = account.name
