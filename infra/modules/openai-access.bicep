// Who may call the model: Cognitive Services OpenAI User (inference only: no keys, no
// deployment changes) for the app identity and, for local development, the deployer.
// Deployed into the account's own resource group, which is ours or, with
// existingOpenAiResourceId, wherever that account lives (the deployer then needs the right to
// assign roles there).
param accountName string
param appPrincipalId string

@description('Deploying principal for local development; empty to skip.')
param deployerPrincipalId string
param deployerPrincipalType string

var roles = loadJsonContent('../built-in-roles.json')

resource openAi 'Microsoft.CognitiveServices/accounts@2024-10-01' existing = {
  name: accountName
}

resource appOpenAiUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = {
  name: guid(openAi.id, appPrincipalId, roles.cognitiveServicesOpenAiUser.id)
  scope: openAi
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.cognitiveServicesOpenAiUser.id)
    principalId: appPrincipalId
    principalType: 'ServicePrincipal'
  }
}

resource deployerOpenAiUser 'Microsoft.Authorization/roleAssignments@2022-04-01' = if (!empty(deployerPrincipalId)) {
  name: guid(openAi.id, deployerPrincipalId, roles.cognitiveServicesOpenAiUser.id)
  scope: openAi
  properties: {
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', roles.cognitiveServicesOpenAiUser.id)
    principalId: deployerPrincipalId
    principalType: deployerPrincipalType
  }
}

// The Azure OpenAI endpoint of the account's custom subdomain (the same for OpenAI and AI
// Foundry accounts). Public cloud host name.
output endpoint string = 'https://${openAi.properties.customSubDomainName}.openai.azure.com/'
