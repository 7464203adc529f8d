package dev.kcdev.keycloak;

import java.util.Map;

import org.keycloak.models.ClientModel;
import org.keycloak.models.ClientScopeModel;
import org.keycloak.models.RealmModel;
import org.keycloak.services.clientregistration.ClientRegistrationContext;
import org.keycloak.services.clientregistration.ClientRegistrationProvider;
import org.keycloak.services.clientregistration.policy.ClientRegistrationPolicy;

/**
 * A client that registers with a {@code scope} member gets exactly the named scopes as optional
 * ones (and only {@code basic} as default), so an authorization request for any other realm
 * optional scope fails with {@code invalid_scope}: MCP's step-up authorization cannot work. After
 * each registration and update this policy adds every realm optional client scope the client
 * lacks, as an optional scope. It never removes a scope and never turns a default one optional.
 *
 * <p>The before-hooks accept everything: what a client may request is the other policies' call
 * (Allowed Client Scopes checks the request, which this does not change).
 */
final class OptionalScopesPolicy implements ClientRegistrationPolicy {

    @Override
    public void beforeRegister(ClientRegistrationContext context) {
    }

    @Override
    public void afterRegister(ClientRegistrationContext context, ClientModel client) {
        addRealmOptionalScopes(client);
    }

    @Override
    public void beforeUpdate(ClientRegistrationContext context, ClientModel client) {
    }

    /** An update that names scopes replaces the client's optional scopes with them. */
    @Override
    public void afterUpdate(ClientRegistrationContext context, ClientModel client) {
        addRealmOptionalScopes(client);
    }

    @Override
    public void beforeView(ClientRegistrationProvider provider, ClientModel client) {
    }

    @Override
    public void beforeDelete(ClientRegistrationProvider provider, ClientModel client) {
    }

    static void addRealmOptionalScopes(ClientModel client) {
        RealmModel realm = client.getRealm();
        Map<String, ClientScopeModel> defaults = client.getClientScopes(true);
        Map<String, ClientScopeModel> optional = client.getClientScopes(false);
        realm.getDefaultClientScopesStream(false)
                .filter(scope -> !defaults.containsKey(scope.getName())
                        && !optional.containsKey(scope.getName()))
                // Collected first: adding while the realm's stream is open would read the client's
                // scope set as it changes. A scope of another protocol is skipped by Keycloak.
                .toList()
                .forEach(scope -> client.addClientScope(scope, false));
    }
}
